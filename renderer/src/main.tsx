// The renderer's entry: Mantine's theme (light/dark follows the system, switchable in the header),
// then the studio, which connects to main before anything else renders.
import '@mantine/core/styles.css';
import { MantineProvider, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StudioProvider } from './studio.tsx';

const theme = createTheme({ primaryColor: 'violet', defaultRadius: 'md' });

// Mantine's "dimmed" text (hints, input descriptions) is gray.6 on white (3.3:1) and dark.2 on dark
// surfaces (3.5:1), under WCAG AA's 4.5:1 (the e2e axe scan fails on it); one shade stronger each.
const resolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)' },
  dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)' },
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
