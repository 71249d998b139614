// The renderer's entry: Mantine's theme (light/dark follows the system, switchable in the header),
// then the studio, which connects to main before anything else renders.
import '@mantine/core/styles.css';
import { Alert, MantineProvider, Modal, ScrollArea, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StudioProvider } from './studio.tsx';

const theme = createTheme({
  primaryColor: 'violet',
  defaultRadius: 'md',
  components: {
    // Mantine's modal and alert close buttons are icons with no name; screen readers would read "button".
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    Alert: Alert.extend({ defaultProps: { closeButtonLabel: 'Dismiss' } }),
    // A scrolled region must be reachable from the keyboard (arrow keys scroll it once focused).
    ScrollArea: ScrollArea.extend({ defaultProps: { viewportProps: { tabIndex: 0 } } }),
  },
});

// Text contrast to WCAG AA (4.5:1; the e2e axe scan fails below it). Mantine's "dimmed" text (hints,
// input descriptions) is gray.6 on white (3.3:1) and dark.2 on dark surfaces (3.5:1): one shade
// stronger each. Orange and yellow text (c="orange", light badges and alerts) has no shade that
// reads on white or on its own light background (orange.9 on orange.1 is 3.6:1): a darker tone,
// over 5:1 on both.
const resolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-orange-text': '#98320a',
    '--mantine-color-orange-light-color': '#98320a',
    '--mantine-color-yellow-text': '#8a5a00',
    '--mantine-color-yellow-light-color': '#8a5a00',
  },
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
