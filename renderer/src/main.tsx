// The renderer's entry: Mantine's theme (light/dark follows the system, switchable in the header),
// then the studio, which connects to main before anything else renders.
import '@mantine/core/styles.css';
import { MantineProvider, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StudioProvider } from './studio.tsx';

const theme = createTheme({ primaryColor: 'violet', defaultRadius: 'md' });
// Mantine's "dimmed" text (hints, input descriptions) is below WCAG AA contrast in both schemes
// (axe-core: color-contrast); one shade darker (lighter in dark mode) passes.
const resolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: { '--mantine-color-dimmed': t.colors.gray[7]! },
  dark: { '--mantine-color-dimmed': t.colors.dark[1]! },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="auto" cssVariablesResolver={resolver}>
      <StudioProvider>
        <App />
      </StudioProvider>
    </MantineProvider>
  </StrictMode>,
);
