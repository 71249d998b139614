// Every screen of the studio, in navigation order. A screen is a component with no props; it reaches
// main through useStudio(). Add a screen here and it appears in the navigation and at #/<id>.
import type { ComponentType } from 'react';
import { ModelsScreen } from './models/ModelsScreen.tsx';
import { PlaygroundScreen } from './steering/PlaygroundScreen.tsx';

export interface Screen {
  id: string;
  label: string;
  component: ComponentType;
}

export const SCREENS: Screen[] = [
  { id: 'models', label: 'Models', component: ModelsScreen },
  // ---- ui-b: steering screens ----
  { id: 'playground', label: 'Playground', component: PlaygroundScreen },
];
