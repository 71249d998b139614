// The connection to main, for every screen: `useStudio().api` is the app contract's typed client
// (preload/contract.ts). In the desktop app the preload bridge hands the page a MessagePort to main;
// in browser mode it is a WebSocket to the page's own server (the token comes from the page URL).
// Both go through the same client (connectChannel), so screens cannot tell them apart.
import { Alert, Center, Loader, Stack, Text } from '@mantine/core';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { connectBridge, connectStudio, findBridge, rpcUrl, type StudioClient } from '../../preload/contract-client.ts';

const StudioContext = createContext<StudioClient | null>(null);

/** The connected client; only screens under <StudioProvider> call it, so it is never null there. */
export function useStudio(): StudioClient {
  const client = useContext(StudioContext);
  if (!client) throw new Error('useStudio outside <StudioProvider>');
  return client;
}

type State = { kind: 'connecting' } | { kind: 'open'; client: StudioClient } | { kind: 'failed'; message: string };

export function StudioProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ kind: 'connecting' });
  useEffect(() => {
    let client: StudioClient | null = null;
    let disposed = false;
    const bridge = findBridge(window);
    (bridge ? connectBridge(bridge) : connectStudio(rpcUrl(window.location.href))).then(
      (c) => {
        if (disposed) return c.close();
        client = c;
        setState({ kind: 'open', client: c });
        void c.closed.then(() => !disposed && setState({ kind: 'failed', message: 'The connection to the studio closed.' }));
      },
      (e: unknown) => !disposed && setState({ kind: 'failed', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      disposed = true;
      client?.close();
    };
  }, []);
  if (state.kind === 'connecting')
    return (
      <Center h="100vh">
        <Loader aria-label="Connecting to the studio" />
      </Center>
    );
  if (state.kind === 'failed')
    return (
      <Center h="100vh" p="xl">
        <Stack maw={560}>
          <Alert color="red" title="Not connected">
            {state.message}
          </Alert>
          <Text size="sm">Start the studio again (`npm start`) and open the URL it prints; the URL carries the session token.</Text>
        </Stack>
      </Center>
    );
  return <StudioContext.Provider value={state.client}>{children}</StudioContext.Provider>;
}
