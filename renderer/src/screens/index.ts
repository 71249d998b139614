// Every screen of the studio, in navigation order. A screen is a component with no props; it reaches
// main through useStudio(). Add a screen here and it appears in the navigation and at #/<id>.
import type { ComponentType } from 'react';
import { ModelsScreen } from './models/ModelsScreen.tsx';
import { LibraryScreen } from './library/LibraryScreen.tsx';
import { EditorScreen } from './editor/EditorScreen.tsx';
import { PlaygroundScreen } from './steering/PlaygroundScreen.tsx';
import { CompareScreen } from './steering/CompareScreen.tsx';
import { SweepScreen } from './steering/SweepScreen.tsx';
import { EvaluateScreen } from './evaluate/EvaluateScreen.tsx';
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
  { id: 'library', label: 'Library', component: LibraryScreen },
  { id: 'editor', label: 'Persona editor', component: EditorScreen },
  // ---- ui-b: steering screens ----
  { id: 'playground', label: 'Playground', component: PlaygroundScreen },
  { id: 'compare', label: 'Compare', component: CompareScreen },
  { id: 'sweep', label: 'Layer sweep', component: SweepScreen },
  // ---- evalui: evaluation screen ----
  { id: 'evaluate', label: 'Evaluate', component: EvaluateScreen },
  // ---- jobs: welcome, jobs, settings ----
  { id: 'welcome', label: 'Welcome', component: WelcomeScreen },
  { id: 'jobs', label: 'Jobs', component: JobsScreen },
  { id: 'settings', label: 'Settings', component: SettingsScreen },
];
