// The renderer's entry: Mantine's theme (light/dark follows the system, switchable in the header),
// then the studio, which connects to main before anything else renders.
import '@mantine/core/styles.css';
import { MantineProvider, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StudioProvider } from './studio.tsx';

const theme = createTheme({ primaryColor: 'violet', defaultRadius: 'md' });
/** Mantine's dimmed text (gray.6 on white: 3.3:1) fails WCAG AA contrast, which the e2e axe scan checks: one shade darker (and lighter in dark mode). */
const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)' },
  dark: { '--mantine-color-dimmed': 'var(--mantine-color-dark-1)' },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="auto" cssVariablesResolver={cssVariablesResolver}>
      <StudioProvider>
        <App />
      </StudioProvider>
    </MantineProvider>
  </StrictMode>,
);
