// The studio's shell: a header (name, colour scheme), the navigation from SCREENS, and the current
// screen, chosen by the URL hash (#/models) so a reload or a shared link lands on the same screen.
// A screen may take params after a '?' (#/compare?persona=ID; renderer/src/format.ts's hashParams).
// Opened with no screen named and an empty library, the studio starts on Welcome (the first run).
import { ActionIcon, AppShell, Burger, Group, NavLink, Title, useMantineColorScheme } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import { SCREENS } from './screens/index.ts';
import { useStudio } from './studio.tsx';

function currentId(): string {
  const id = window.location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return SCREENS.some((s) => s.id === id) ? id : (SCREENS[0]?.id ?? '');
}

export function App() {
  const [opened, { toggle }] = useDisclosure();
  const [screenId, setScreenId] = useState(currentId);
  const { colorScheme, toggleColorScheme } = useMantineColorScheme();
  const { api } = useStudio();
  useEffect(() => {
    if (window.location.hash.replace(/^#\/?/, '')) return;
    api['models.list']({}).then(
      (models) => {
        if (models.length === 0 && !window.location.hash.replace(/^#\/?/, '')) window.location.hash = '#/welcome';
      },
      () => {}, // the screens report a broken library themselves
    );
  }, [api]);
  useEffect(() => {
    const onHash = () => setScreenId(currentId());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const screen = SCREENS.find((s) => s.id === screenId);
  const Screen = screen?.component;
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 210, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h4">
              Persona Studio
            </Title>
          </Group>
          <ActionIcon
            variant="default"
            onClick={toggleColorScheme}
            aria-label={`Switch to ${colorScheme === 'dark' ? 'light' : 'dark'} mode`}
          >
            {colorScheme === 'dark' ? '☀' : '☾'}
          </ActionIcon>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Screens">
        {SCREENS.map((s) => (
          <NavLink
            key={s.id}
            href={`#/${s.id}`}
            label={s.label}
            active={s.id === screenId}
            aria-current={s.id === screenId ? 'page' : undefined}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{Screen && <Screen />}</AppShell.Main>
    </AppShell>
  );
}
