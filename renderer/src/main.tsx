// The renderer's entry: Mantine's theme (light/dark follows the system, switchable in the header),
// then the studio, which connects to main before anything else renders.
import '@mantine/core/styles.css';
import { MantineProvider, createTheme } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StudioProvider } from './studio.tsx';

const theme = createTheme({ primaryColor: 'violet', defaultRadius: 'md' });

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <StudioProvider>
        <App />
      </StudioProvider>
    </MantineProvider>
  </StrictMode>,
);
