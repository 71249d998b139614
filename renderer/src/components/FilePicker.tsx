// Choosing a file or folder on the machine running main. In browser mode the page cannot see the
// server's disk, so the picker lists it through the contract (files.places, files.list); a path
// can always be typed instead.
import { Alert, Button, Group, Modal, ScrollArea, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import type { AppResult } from '../../../preload/contract.ts';
import { useStudio } from '../studio.tsx';
import { errorText, formatBytes } from './run.ts';

type Listing = AppResult<'files.list'>;
type Places = AppResult<'files.places'>;

export interface FilePickerProps {
  opened: boolean;
  onClose(): void;
  onPick(path: string): void;
  mode: 'dir' | 'file';
  title: string;
  /** Where to open (default: the data folder). */
  start?: string | null;
  /** Files shown in file mode, by extension (lower case, with the dot); default: every file. */
  extensions?: string[];
}

export function FilePicker({ opened, onClose, onPick, mode, title, start, extensions }: FilePickerProps) {
  const { api } = useStudio();
  const [places, setPlaces] = useState<Places | null>(null);
  const [listing, setListing] = useState<Listing | null>(null);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);

  const open = useCallback(
    (dir: string): Promise<boolean> =>
      api['files.list']({ dir }).then(
        (l) => {
          setListing(l);
          setTyped(l.dir);
          setError(null);
          return true;
        },
        (e: unknown) => {
          setError(errorText(e));
          return false;
        },
      ),
    [api],
  );

  useEffect(() => {
    if (!opened) return;
    api['files.places']({}).then(
      async (p) => {
        setPlaces(p);
        // A typed path that is not a folder (yet): start at the data folder instead.
        if (!start || !(await open(start))) await open(p.dataDir);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [opened, api, open, start]);

  const shown = (listing?.entries ?? []).filter(
    // In folder mode files are listed too (not choosable), so one can see it is the right folder.
    (e) => e.kind === 'dir' || mode === 'dir' || !extensions || extensions.some((x) => e.name.toLowerCase().endsWith(x)),
  );
  const pick = (p: string) => {
    onPick(p);
    onClose();
  };
  const placeButtons: [string, string | null | undefined][] = [
    ['Data folder', places?.dataDir],
    ['Home', places?.home],
    ['Demo model', places?.demoModel],
    ['Shipped prompt sets', places?.promptSets],
  ];

  return (
    <Modal opened={opened} onClose={onClose} title={title} size="lg">
      <Stack>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim()) void open(typed.trim());
          }}
        >
          <Group align="end" wrap="nowrap">
            <TextInput
              label="Path on the server"
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
              style={{ flex: 1 }}
              description="An absolute path; press Enter to open it"
            />
            <Button type="submit" variant="default">
              Open
            </Button>
          </Group>
        </form>
        <Group gap="xs">
          {placeButtons.map(
            ([name, p]) =>
              p && (
                <Button key={name} size="xs" variant="light" onClick={() => void open(p)} aria-label={`Go to ${name}`}>
                  {name}
                </Button>
              ),
          )}
          <Button size="xs" variant="default" disabled={!listing?.parent} onClick={() => listing?.parent && void open(listing.parent)}>
            Up one folder
          </Button>
        </Group>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <ScrollArea h={320} type="auto">
          <Table highlightOnHover aria-label={`Contents of ${listing?.dir ?? 'the folder'}`}>
            <Table.Tbody>
              {shown.map((e) => (
                <Table.Tr key={e.path}>
                  <Table.Td>
                    {e.kind === 'file' && mode === 'dir' ? (
                      <Text size="sm" c="dimmed">
                        📄 {e.name}
                      </Text>
                    ) : (
                      <UnstyledButton
                        onClick={() => (e.kind === 'dir' ? void open(e.path) : pick(e.path))}
                        aria-label={e.kind === 'dir' ? `Open folder ${e.name}` : `Choose file ${e.name}`}
                        style={{ width: '100%' }}
                      >
                        <Text size="sm">
                          {e.kind === 'dir' ? '📁 ' : '📄 '}
                          {e.name}
                        </Text>
                      </UnstyledButton>
                    )}
                  </Table.Td>
                  <Table.Td w={90}>
                    <Text size="xs" c="dimmed">
                      {e.size === null ? '' : formatBytes(e.size)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {listing && shown.length === 0 && (
            <Text size="sm" c="dimmed" p="sm">
              {mode === 'dir' ? 'This folder is empty.' : 'Nothing to choose here.'}
            </Text>
          )}
          {listing?.truncated && (
            <Text size="xs" c="dimmed" p="sm">
              Only the first entries are shown; type a path to go further.
            </Text>
          )}
        </ScrollArea>
        {mode === 'dir' && (
          <Group justify="end">
            <Button disabled={!listing} onClick={() => listing && pick(listing.dir)}>
              Choose this folder
            </Button>
          </Group>
        )}
      </Stack>
    </Modal>
  );
}

/** A path text field with a "Browse…" button opening the server-side picker. */
export function PathField(props: {
  label: string;
  value: string;
  onChange(v: string): void;
  mode: 'dir' | 'file';
  description?: string;
  extensions?: string[];
  error?: string | null;
}) {
  const [opened, setOpened] = useState(false);
  const { label, value, onChange, mode } = props;
  return (
    <>
      <Group align="end" wrap="nowrap">
        <TextInput
          label={label}
          value={value}
          onChange={(e) => onChange(e.currentTarget.value)}
          description={props.description}
          error={props.error}
          placeholder={mode === 'dir' ? '/path/to/folder' : '/path/to/file'}
          style={{ flex: 1 }}
        />
        <Button variant="default" onClick={() => setOpened(true)} aria-label={`Browse for ${label.toLowerCase()}`}>
          Browse…
        </Button>
      </Group>
      <FilePicker
        opened={opened}
        onClose={() => setOpened(false)}
        onPick={onChange}
        mode={mode}
        title={mode === 'dir' ? `Choose a folder: ${label}` : `Choose a file: ${label}`}
        start={value ? (mode === 'dir' ? value : value.replace(/[\\/][^\\/]*$/, '') || value) : null}
        extensions={props.extensions}
      />
    </>
  );
}
