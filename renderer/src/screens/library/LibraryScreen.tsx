// Library: the personas, filtered by model, tag and search words; the trash (delete with Undo,
// restore); rename, duplicate, tags; import and export in every vector format (paths on the
// server, chosen with its picker); and vector arithmetic (Σ coef·persona) with the lineage shown.
import {
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  Notification,
  NumberInput,
  Select,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { VECTOR_FORMATS, type AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { PathField } from '../../components/FilePicker.tsx';
import { errorText } from '../../components/run.ts';

type Persona = AppResult<'personas.list'>[number];
type Lineage = AppResult<'personas.lineage'>[number]['lineage'];
type Dialog = { kind: 'rename' | 'tags' | 'export'; persona: Persona } | { kind: 'import' } | { kind: 'combine' } | null;

/** "0.5·cheery − 2·formal", or "cheery ⟂ formal". */
export function lineageText(l: NonNullable<Lineage>): string {
  if (l.op === 'orthogonalize') return `${l.base.personaName} ⟂ ${l.against.personaName}`;
  return l.terms
    .map((t, i) => {
      const sign = t.coef < 0 ? '− ' : i > 0 ? '+ ' : '';
      const c = Math.abs(t.coef);
      return `${sign}${c === 1 ? '' : `${c}·`}${t.personaName}`;
    })
    .join(' ');
}

export function LibraryScreen() {
  const { api } = useStudio();
  const [personas, setPersonas] = useState<Persona[] | null>(null);
  const [lineage, setLineage] = useState<Record<string, string>>({});
  const [models, setModels] = useState<AppResult<'models.list'>>([]);
  const [tags, setTags] = useState<AppResult<'personas.tags'>>([]);
  const [search, setSearch] = useState('');
  const [model, setModel] = useState<string | null>(null);
  const [tag, setTag] = useState<string | null>(null);
  const [trash, setTrash] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [undo, setUndo] = useState<Persona | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let live = true;
    api['personas.list']({ search: search.trim() || undefined, tag: tag ?? undefined, model: model ?? undefined, trash }).then(
      async (list) => {
        if (!live) return;
        setPersonas(list);
        // Derived personas say what they were made of.
        const entries = await Promise.all(
          list.map(async (p) => {
            const l = (await api['personas.lineage']({ persona: p.id }).catch(() => []))[0]?.lineage;
            return [p.id, l ? lineageText(l) : ''] as const;
          }),
        );
        if (live) setLineage(Object.fromEntries(entries));
      },
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [api, search, tag, model, trash, tick]);
  useEffect(() => {
    api['models.list']({}).then(setModels, (e: unknown) => setError(errorText(e)));
    api['personas.tags']({}).then(setTags, (e: unknown) => setError(errorText(e)));
  }, [api, tick]);

  const act = async (what: () => Promise<string | null>) => {
    setError(null);
    try {
      const msg = await what();
      if (msg) setNotice(msg);
    } catch (e) {
      setError(errorText(e));
    }
    refresh();
  };
  const modelName = (id: string) => models.find((m) => m.id === id)?.name ?? id;
  const modelOptions = models.map((m) => ({ value: m.id, label: m.name }));

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Library</Title>
        <Group gap="xs">
          <Button variant="default" onClick={() => setDialog({ kind: 'import' })}>
            Import…
          </Button>
          <Button variant="default" onClick={() => setDialog({ kind: 'combine' })} disabled={trash}>
            Vector arithmetic…
          </Button>
        </Group>
      </Group>

      <Group align="end">
        <TextInput
          label="Search personas"
          placeholder="Words in name, description, notes or tags"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          style={{ flex: 1 }}
        />
        <Select label="Model" placeholder="All models" data={modelOptions} value={model} onChange={setModel} clearable />
        <Select
          label="Tag"
          placeholder="All tags"
          data={tags.map((t) => ({ value: t.tag, label: `${t.tag} (${t.count})` }))}
          value={tag}
          onChange={setTag}
          clearable
        />
        <Switch label="Show trash" checked={trash} onChange={(e) => setTrash(e.currentTarget.checked)} mb={8} />
      </Group>

      {notice && (
        <Alert color="green" role="status" withCloseButton onClose={() => setNotice(null)} closeButtonLabel="Dismiss">
          {notice}
        </Alert>
      )}
      {error && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setError(null)} closeButtonLabel="Dismiss">
          {error}
        </Alert>
      )}

      {personas && personas.length === 0 && (
        <Text>
          {trash
            ? 'The trash is empty.'
            : search || tag || model
              ? 'No persona matches these filters; clear them to see every persona.'
              : models.length === 0
                ? 'No personas yet. Add a model on the Models screen first, then train a persona in the Persona editor.'
                : 'No personas yet. Train one in the Persona editor, or import a vector file (Import…).'}
        </Text>
      )}
      {personas && personas.length > 0 && (
        <Table aria-label={trash ? 'Personas in the trash' : 'Personas'} verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Models</Table.Th>
              <Table.Th>Tags</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {personas.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  <Text fw={500}>{p.name}</Text>
                  {lineage[p.id] && (
                    <Text size="xs" c="dimmed" aria-label={`${p.name} is derived from ${lineage[p.id]}`}>
                      = {lineage[p.id]}
                    </Text>
                  )}
                  {p.description && (
                    <Text size="xs" c="dimmed" lineClamp={2}>
                      {p.description}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{p.modelIds.map(modelName).join(', ') || '—'}</Text>
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {p.tags.map((t) => (
                      <Badge key={t} variant="light" size="sm">
                        {t}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>
                  {trash ? (
                    <Button
                      size="xs"
                      variant="default"
                      aria-label={`Restore ${p.name}`}
                      onClick={() =>
                        void act(async () => {
                          await api['personas.restore']({ persona: p.id });
                          return `Restored ${p.name}.`;
                        })
                      }
                    >
                      Restore
                    </Button>
                  ) : (
                    <Group gap={4}>
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={`Rename ${p.name}`}
                        onClick={() => setDialog({ kind: 'rename', persona: p })}
                      >
                        Rename
                      </Button>
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={`Edit tags of ${p.name}`}
                        onClick={() => setDialog({ kind: 'tags', persona: p })}
                      >
                        Tags
                      </Button>
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={`Duplicate ${p.name}`}
                        onClick={() => void act(async () => `Duplicated as ${(await api['personas.duplicate']({ persona: p.id })).name}.`)}
                      >
                        Duplicate
                      </Button>
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={`Export ${p.name}`}
                        onClick={() => setDialog({ kind: 'export', persona: p })}
                      >
                        Export
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${p.name}`}
                        onClick={() =>
                          void act(async () => {
                            await api['personas.delete']({ persona: p.id });
                            setUndo(p);
                            return null;
                          })
                        }
                      >
                        Delete
                      </Button>
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}

      {undo && (
        <Notification
          role="status"
          title={`Moved ${undo.name} to the trash`}
          onClose={() => setUndo(null)}
          closeButtonProps={{ 'aria-label': 'Dismiss' }}
          style={{ position: 'fixed', bottom: 20, right: 20, zIndex: 300, maxWidth: 380 }}
        >
          <Group justify="space-between">
            <Text size="sm">It stays there until the trash is emptied.</Text>
            <Button
              size="xs"
              onClick={() =>
                void act(async () => {
                  await api['personas.restore']({ persona: undo.id });
                  setUndo(null);
                  return `Restored ${undo.name}.`;
                })
              }
            >
              Undo
            </Button>
          </Group>
        </Notification>
      )}

      {dialog?.kind === 'rename' && (
        <RenameDialog persona={dialog.persona} onClose={() => setDialog(null)} onDone={(msg) => void act(async () => msg)} />
      )}
      {dialog?.kind === 'tags' && (
        <TagsDialog
          persona={dialog.persona}
          known={tags.map((t) => t.tag)}
          onClose={() => setDialog(null)}
          onDone={(m) => void act(async () => m)}
        />
      )}
      {dialog?.kind === 'export' && <ExportDialog persona={dialog.persona} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'import' && (
        <ImportDialog models={modelOptions} onClose={() => setDialog(null)} onDone={(m) => void act(async () => m)} />
      )}
      {dialog?.kind === 'combine' && (
        <CombineDialog models={modelOptions} onClose={() => setDialog(null)} onDone={(m) => void act(async () => m)} />
      )}
    </Stack>
  );
}

/** A dialog's shared frame: the form, its error line and the two buttons. */
function DialogForm(props: {
  title: string;
  submit: string;
  onClose(): void;
  run(): Promise<string | null>;
  onDone?(msg: string): void;
  disabled?: boolean;
  children: ReactNode;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  return (
    <Modal opened onClose={props.onClose} title={props.title} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          props.run().then(
            (msg) => {
              setBusy(false);
              if (props.onDone) {
                if (msg) props.onDone(msg);
                props.onClose();
              } else setResult(msg);
            },
            (err: unknown) => {
              setBusy(false);
              setError(errorText(err));
            },
          );
        }}
      >
        <Stack>
          {props.children}
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          {result && (
            <Alert color="green" role="status">
              {result}
            </Alert>
          )}
          <Group justify="end">
            <Button variant="default" onClick={props.onClose}>
              {result ? 'Close' : 'Cancel'}
            </Button>
            <Button type="submit" loading={busy} disabled={props.disabled}>
              {props.submit}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function RenameDialog({ persona, onClose, onDone }: { persona: Persona; onClose(): void; onDone(m: string): void }) {
  const { api } = useStudio();
  const [name, setName] = useState(persona.name);
  return (
    <DialogForm
      title={`Rename ${persona.name}`}
      submit="Rename"
      onClose={onClose}
      onDone={onDone}
      disabled={!name.trim()}
      run={async () => `Renamed to ${(await api['personas.rename']({ persona: persona.id, name })).name}.`}
    >
      <TextInput label="New name" value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
    </DialogForm>
  );
}

function TagsDialog({ persona, known, onClose, onDone }: { persona: Persona; known: string[]; onClose(): void; onDone(m: string): void }) {
  const { api } = useStudio();
  const [tags, setTags] = useState(persona.tags);
  return (
    <DialogForm
      title={`Tags of ${persona.name}`}
      submit="Save tags"
      onClose={onClose}
      onDone={onDone}
      run={async () => {
        await api['personas.update']({ persona: persona.id, tags });
        return `Saved the tags of ${persona.name}.`;
      }}
    >
      <TagsInput label="Tags" description="Press Enter after each tag" data={known} value={tags} onChange={setTags} data-autofocus />
    </DialogForm>
  );
}

function ExportDialog({ persona, onClose }: { persona: Persona; onClose(): void }) {
  const { api } = useStudio();
  const [format, setFormat] = useState<string>('studio');
  const [dir, setDir] = useState('');
  useEffect(() => {
    api['files.places']({}).then((p) => setDir((d) => d || `${p.dataDir}/exports`));
  }, [api]);
  return (
    <DialogForm
      title={`Export ${persona.name}`}
      submit="Export"
      onClose={onClose}
      disabled={!dir.trim()}
      run={async () => {
        const r = await api['personas.export']({ persona: persona.id, format: format as (typeof VECTOR_FORMATS)[number], dir: dir.trim() });
        return `Wrote ${r.files.join(', ')}${r.warnings.length ? `. ${r.warnings.join(' ')}` : ''}`;
      }}
    >
      <Select
        label="Format"
        data={[...VECTOR_FORMATS]}
        value={format}
        onChange={(v) => v && setFormat(v)}
        allowDeselect={false}
        description="studio keeps everything; gguf loads in llama.cpp; persona-vectors, toolkit and safetensors for other tools"
      />
      <PathField label="Export folder" mode="dir" value={dir} onChange={setDir} description="On the server; created if missing" />
    </DialogForm>
  );
}

function ImportDialog({
  models,
  onClose,
  onDone,
}: {
  models: { value: string; label: string }[];
  onClose(): void;
  onDone(m: string): void;
}) {
  const { api } = useStudio();
  const [file, setFile] = useState('');
  const [model, setModel] = useState<string | null>(models[0]?.value ?? null);
  const [format, setFormat] = useState<string | null>(null);
  const [name, setName] = useState('');
  return (
    <DialogForm
      title="Import a persona"
      submit="Import"
      onClose={onClose}
      onDone={onDone}
      disabled={!file.trim() || !model}
      run={async () => {
        const r = await api['personas.import']({
          file: file.trim(),
          model: model!,
          format: (format as (typeof VECTOR_FORMATS)[number] | null) ?? undefined,
          name: name.trim() || undefined,
        });
        return `Imported ${r.persona.name} (${r.format}).${r.warnings.length ? ` ${r.warnings.join(' ')}` : ''}`;
      }}
    >
      {models.length === 0 && <Text c="dimmed">Add a model on the Models screen first: imported vectors belong to a model.</Text>}
      <PathField label="Vector file" mode="file" value={file} onChange={setFile} description="A file (or toolkit folder) on the server" />
      <Select label="For model" data={models} value={model} onChange={setModel} allowDeselect={false} />
      <Select label="Format" placeholder="Detect from the file" data={[...VECTOR_FORMATS]} value={format} onChange={setFormat} clearable />
      <TextInput label="Name" placeholder="From the file" value={name} onChange={(e) => setName(e.currentTarget.value)} />
    </DialogForm>
  );
}

function CombineDialog({
  models,
  onClose,
  onDone,
}: {
  models: { value: string; label: string }[];
  onClose(): void;
  onDone(m: string): void;
}) {
  const { api } = useStudio();
  const [model, setModel] = useState<string | null>(models[0]?.value ?? null);
  const [choices, setChoices] = useState<Persona[]>([]);
  const [terms, setTerms] = useState<{ persona: string | null; coef: number }[]>([
    { persona: null, coef: 1 },
    { persona: null, coef: 1 },
  ]);
  const [name, setName] = useState('');
  useEffect(() => {
    if (model) api['personas.list']({ model }).then(setChoices, () => setChoices([]));
  }, [api, model]);
  const set = (i: number, patch: Partial<(typeof terms)[number]>) => setTerms((ts) => ts.map((t, j) => (j === i ? { ...t, ...patch } : t)));
  const ready = terms.filter((t) => t.persona);
  const formula = ready
    .map((t, i) => `${t.coef < 0 ? '− ' : i ? '+ ' : ''}${Math.abs(t.coef)}·${choices.find((p) => p.id === t.persona)?.name ?? '?'}`)
    .join(' ');
  return (
    <DialogForm
      title="Vector arithmetic"
      submit="Combine"
      onClose={onClose}
      onDone={onDone}
      disabled={!name.trim() || ready.length === 0 || !model}
      run={async () => {
        const r = await api['personas.combine']({
          name: name.trim(),
          model: model!,
          terms: ready.map((t) => ({ persona: t.persona!, coef: t.coef })),
        });
        return `Saved ${r.persona.name} = ${lineageText(r.lineage)}.`;
      }}
    >
      <Text size="sm" c="dimmed">
        A new persona made layer by layer from personas of one model: Σ coefficient · persona. Its lineage is recorded.
      </Text>
      <Select label="Model" data={models} value={model} onChange={setModel} allowDeselect={false} />
      {terms.map((t, i) => (
        <Group key={i} align="end" wrap="nowrap">
          <NumberInput
            label={`Coefficient ${i + 1}`}
            value={t.coef}
            onChange={(v) => set(i, { coef: typeof v === 'number' ? v : Number(v) || 0 })}
            step={0.5}
            w={140}
          />
          <Select
            label={`Persona ${i + 1}`}
            data={choices.map((p) => ({ value: p.id, label: p.name }))}
            value={t.persona}
            onChange={(v) => set(i, { persona: v })}
            placeholder="Choose a persona"
            style={{ flex: 1 }}
            searchable
          />
          {terms.length > 1 && (
            <Button variant="subtle" aria-label={`Remove term ${i + 1}`} onClick={() => setTerms((ts) => ts.filter((_, j) => j !== i))}>
              ✕
            </Button>
          )}
        </Group>
      ))}
      <Group>
        <Button
          variant="default"
          size="xs"
          onClick={() => setTerms((ts) => [...ts, { persona: null, coef: 1 }])}
          disabled={terms.length >= 16}
        >
          Add term
        </Button>
        {formula && (
          <Text size="sm" aria-label="Formula">
            = {formula}
          </Text>
        )}
      </Group>
      <TextInput label="New persona name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
    </DialogForm>
  );
}
