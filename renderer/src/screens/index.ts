// Every screen of the studio, in navigation order. A screen is a component with no props; it reaches
// main through useStudio(). Add a screen here and it appears in the navigation and at #/<id>.
import type { ComponentType } from 'react';
import { ModelsScreen } from './models/ModelsScreen.tsx';
import { PlaygroundScreen } from './steering/PlaygroundScreen.tsx';
import { CompareScreen } from './steering/CompareScreen.tsx';
import { WelcomeScreen } from './welcome/WelcomeScreen.tsx';
import { JobsScreen } from './jobs/JobsScreen.tsx';
import { SettingsScreen } from './settings/SettingsScreen.tsx';

export interface Screen {
  id: string;
  label: string;
  component: ComponentType;
}

export const SCREENS: Screen[] = [
  { id: 'models', label: 'Models', component: ModelsScreen },
  // ---- ui-b: steering screens ----
  { id: 'playground', label: 'Playground', component: PlaygroundScreen },
  { id: 'compare', label: 'Compare', component: CompareScreen },
  // ---- jobs: welcome, jobs, settings ----
  { id: 'welcome', label: 'Welcome', component: WelcomeScreen },
  { id: 'jobs', label: 'Jobs', component: JobsScreen },
  { id: 'settings', label: 'Settings', component: SettingsScreen },
];
