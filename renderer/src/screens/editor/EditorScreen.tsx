// Persona editor: a prompt set (positive and negative prompts, questions for system-prompt sets)
// started from a shipped set, a library set, a file, or drafted from a description by the model
// (shown with which path wrote it, for review); edited here and saved as a library version; then
// trained into a persona with progress, ETA and Cancel (finished batches are kept: train again to
// resume), and each layer's separation charted.
import { Alert, Badge, Button, Card, Group, List, SegmentedControl, Select, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { AppResult, promptSetDocSchema } from '../../../../preload/contract.ts';
import type { z } from 'zod';
import { useStudio } from '../../studio.tsx';
import { FilePicker } from '../../components/FilePicker.tsx';
import { RunProgress } from '../../components/RunProgress.tsx';
import { SeparationChart, type LayerSeparation } from '../../components/SeparationChart.tsx';
import { errorText, useRun } from '../../components/run.ts';
import { PromptListField, linesOf, textOf } from './PromptListField.tsx';
import { TrainingSettings, settingsOf, useTrainingSettings } from './TrainingSettings.tsx';

type Doc = z.input<typeof promptSetDocSchema>;
type Kind = Doc['kind'];
type Heldout = { positive: string[]; negative: string[]; questions: string[] };
const NO_HELDOUT: Heldout = { positive: [], negative: [], questions: [] };

interface Draft {
  name: string;
  description: string;
  kind: Kind;
  positive: string;
  negative: string;
  questions: string;
  /** Kept as loaded (never edited here): the split separation is measured on. */
  heldout: Heldout;
  extra: Pick<Doc, 'role' | 'markers' | 'source'>;
}

const EMPTY: Draft = {
  name: '',
  description: '',
  kind: 'system-prompts',
  positive: '',
  negative: '',
  questions: '',
  heldout: NO_HELDOUT,
  extra: {},
};

function draftOf(d: z.output<typeof promptSetDocSchema>): Draft {
  return {
    name: d.name,
    description: d.description,
    kind: d.kind,
    positive: textOf(d.positive),
    negative: textOf(d.negative),
    questions: textOf(d.questions),
    heldout: d.heldout,
    extra: { role: d.role, markers: d.markers, source: d.source },
  };
}

function docOf(d: Draft): Doc {
  return {
    name: d.name.trim(),
    description: d.description,
    kind: d.kind,
    positive: linesOf(d.positive),
    negative: linesOf(d.negative),
    questions: d.kind === 'system-prompts' ? linesOf(d.questions) : [],
    heldout: d.kind === 'system-prompts' ? d.heldout : { ...d.heldout, questions: [] },
    ...Object.fromEntries(Object.entries(d.extra).filter(([, v]) => v !== undefined)),
  };
}

export function EditorScreen() {
  const { api } = useStudio();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [models, setModels] = useState<AppResult<'models.list'>>([]);
  const [model, setModel] = useState<string | null>(null);
  const [shipped, setShipped] = useState<AppResult<'promptSets.shipped'>>([]);
  const [library, setLibrary] = useState<AppResult<'promptSets.list'>>([]);
  const [picking, setPicking] = useState(false);
  const [description, setDescription] = useState('');
  const [drafted, setDrafted] = useState<Omit<AppResult<'promptSets.fromDescription'>, 'set'> | null>(null);
  const [personaName, setPersonaName] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chart, setChart] = useState<{ title: string; layers: LayerSeparation[] } | null>(null);
  const [personas, setPersonas] = useState<AppResult<'personas.list'>>([]);
  const drafting = useRun();
  const training = useRun();
  const form = useTrainingSettings();

  useEffect(() => {
    api['models.list']({}).then(
      (m) => {
        setModels(m);
        setModel((cur) => cur ?? m[0]?.id ?? null);
      },
      (e: unknown) => setError(errorText(e)),
    );
    api['promptSets.shipped']({}).then(setShipped, (e: unknown) => setError(errorText(e)));
    api['promptSets.list']({}).then(setLibrary, (e: unknown) => setError(errorText(e)));
    api['personas.list']({}).then(setPersonas, () => setPersonas([]));
  }, [api]);

  const patch = (p: Partial<Draft>) => setDraft((d) => ({ ...d, ...p }));
  const load = (what: string, p: Promise<z.output<typeof promptSetDocSchema>>) => {
    setError(null);
    p.then(
      (doc) => {
        setDraft(draftOf(doc));
        setDrafted(null);
        setNotice(`Loaded ${what}. Review and edit the prompts, then save or train.`);
      },
      (e: unknown) => setError(errorText(e)),
    );
  };
  const loadLibrary = (ref: string) => load('the library prompt set', api['promptSets.document']({ promptSet: ref }));

  const draftFromDescription = async () => {
    setNotice(null);
    const r = await drafting.start(({ signal, onProgress }) =>
      api['promptSets.fromDescription'](
        { model: model!, name: description.trim().slice(0, 200), description },
        { signal, on: { progress: onProgress } },
      ),
    );
    if (!r) return;
    setDraft(draftOf(r.set));
    setDrafted({ source: r.source, refusals: r.refusals, why: r.why });
  };

  const save = async () => {
    setError(null);
    try {
      const r = await api['promptSets.save']({ set: docOf(draft), note: 'edited in the persona editor' });
      setNotice(
        r.added ? `Saved ${r.promptSet.name} version ${r.version}.` : `${r.promptSet.name} version ${r.version} already has these prompts.`,
      );
      api['promptSets.list']({}).then(setLibrary, () => {});
      return r;
    } catch (e) {
      setError(errorText(e));
      return null;
    }
  };

  const train = async () => {
    if (form.validate().hasErrors) return;
    setNotice(null);
    setChart(null);
    const saved = await save();
    if (!saved) return;
    const name = personaName.trim();
    const r = await training.start(({ signal, onProgress }) =>
      api['personas.train'](
        { model: model!, name, promptSet: saved.promptSet.id, settings: settingsOf(form.getValues()) },
        { signal, on: { progress: onProgress } },
      ),
    );
    if (!r) return;
    setNotice(
      `Trained ${r.persona.name}: ${r.counts.positive} positive and ${r.counts.negative} negative samples` +
        `${r.resumedBatches ? `, ${r.resumedBatches} batches resumed` : ''}; separation measured on the ${r.separationOn} split.`,
    );
    setChart({ title: `Separation of ${r.persona.name}`, layers: r.layers });
    api['personas.list']({}).then(setPersonas, () => {});
  };

  const showPersona = (ref: string | null) => {
    if (!ref) return setChart(null);
    api['personas.show']({ persona: ref }).then(
      ({ persona, vectors }) =>
        setChart({
          title: `Separation of ${persona.name}`,
          layers: (vectors[0]?.layers ?? [])
            .filter((l) => l.separation)
            .map((l) => ({ layer: l.layer, auc: l.separation?.auc ?? null, cohenD: l.separation?.cohenD ?? null })),
        }),
      (e: unknown) => setError(errorText(e)),
    );
  };

  const doc = docOf(draft);
  const canSave =
    !!doc.name && doc.positive.length > 0 && doc.negative.length > 0 && (draft.kind === 'prompts' || linesOf(draft.questions).length > 0);
  const busy = drafting.state.running || training.state.running;
  const modelOptions = models.map((m) => ({ value: m.id, label: m.name }));
  const held = draft.heldout;

  return (
    <Stack>
      <Title order={2}>Persona editor</Title>
      {models.length === 0 && (
        <Alert color="blue" title="No model yet">
          Add a model on the Models screen (the demo model is one click), then come back to write and train a persona.
        </Alert>
      )}

      <Card withBorder component="section" aria-labelledby="start-heading">
        <Stack>
          <Title order={3} size="h4" id="start-heading">
            Start from
          </Title>
          <Group align="end">
            <Select
              label="Shipped prompt set"
              placeholder="Choose one"
              data={shipped.map((s) => ({ value: s.file, label: `${s.name} (${s.positive}+${s.negative})` }))}
              onChange={(f) => f && load('the shipped prompt set', api['promptSets.readFile']({ file: f }))}
              value={null}
              searchable
            />
            <Select
              label="Library prompt set"
              placeholder={library.length ? 'Choose one' : 'None saved yet'}
              data={library.map((s) => ({ value: s.id, label: `${s.name} v${s.latestVersion}` }))}
              onChange={(id) => id && loadLibrary(id)}
              value={null}
              disabled={library.length === 0}
              searchable
            />
            <Button variant="default" onClick={() => setPicking(true)}>
              Open a prompt-set file…
            </Button>
            <Button variant="subtle" onClick={() => (setDraft(EMPTY), setDrafted(null))}>
              Clear
            </Button>
          </Group>
          <Group align="end">
            <TextInput
              label="Describe the persona"
              placeholder="e.g. a cheerful pirate"
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
              style={{ flex: 1 }}
              description="The model drafts contrastive prompts; if it cannot, our template is used and you are told why"
            />
            <Button onClick={() => void draftFromDescription()} disabled={!model || description.trim().length < 2 || busy} variant="light">
              Draft prompts from the description
            </Button>
          </Group>
          <RunProgress state={drafting.state} onCancel={drafting.cancel} label="Drafting" />
          {drafted && (
            <Alert color={drafted.source === 'model' ? 'green' : 'yellow'} title="Draft ready for review" role="status">
              <Group gap="xs" mb={4}>
                <Badge>{drafted.source === 'model' ? 'written by the model' : 'from our template'}</Badge>
              </Group>
              <Text size="sm">{drafted.why.charAt(0).toUpperCase() + drafted.why.slice(1)}. Nothing is saved until you save or train.</Text>
              {drafted.refusals.length > 0 && (
                <List size="xs" mt={4}>
                  {drafted.refusals.map((r) => (
                    <List.Item key={r}>{r}</List.Item>
                  ))}
                </List>
              )}
            </Alert>
          )}
        </Stack>
      </Card>

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

      <Card withBorder component="section" aria-labelledby="prompts-heading">
        <Stack>
          <Title order={3} size="h4" id="prompts-heading">
            Prompts
          </Title>
          <Group grow align="start">
            <TextInput label="Prompt set name" value={draft.name} onChange={(e) => patch({ name: e.currentTarget.value })} required />
            <div>
              <Text size="sm" fw={500} mb={4} id="kind-label">
                Kind
              </Text>
              <SegmentedControl
                aria-labelledby="kind-label"
                value={draft.kind}
                onChange={(v) => patch({ kind: v as Kind })}
                data={[
                  { value: 'system-prompts', label: 'System prompts × questions' },
                  { value: 'prompts', label: 'Prompts' },
                ]}
              />
            </div>
          </Group>
          <Textarea
            label="Description"
            value={draft.description}
            onChange={(e) => patch({ description: e.currentTarget.value })}
            autosize
            minRows={1}
            maxRows={3}
          />
          <Group grow align="start">
            <PromptListField
              label="Positive prompts"
              what="positive prompts"
              value={draft.positive}
              onChange={(v) => patch({ positive: v })}
              hint={draft.kind === 'system-prompts' ? 'System prompts of the persona.' : 'Prompts showing the persona.'}
            />
            <PromptListField
              label="Negative prompts"
              what="negative prompts"
              value={draft.negative}
              onChange={(v) => patch({ negative: v })}
              hint={draft.kind === 'system-prompts' ? 'System prompts of the opposite (or neutral).' : 'Prompts of the opposite.'}
            />
          </Group>
          {draft.kind === 'system-prompts' && (
            <PromptListField
              label="Questions"
              what="questions"
              value={draft.questions}
              onChange={(v) => patch({ questions: v })}
              hint="User questions, each answered under every system prompt."
            />
          )}
          <Text size="xs" c="dimmed">
            Held out for measuring separation (kept as loaded): {held.positive.length} positive, {held.negative.length} negative
            {draft.kind === 'system-prompts' ? `, ${held.questions.length} questions` : ''}.
            {held.positive.length + held.negative.length === 0 &&
              ' Without a held-out split, separation is measured on the training prompts.'}
          </Text>
          <Group>
            <Button variant="default" onClick={() => void save()} disabled={!canSave || busy}>
              Save prompt set
            </Button>
          </Group>
        </Stack>
      </Card>

      <Card withBorder component="section" aria-labelledby="train-heading">
        <Stack>
          <Title order={3} size="h4" id="train-heading">
            Train
          </Title>
          <Group grow>
            <Select
              label="Model"
              data={modelOptions}
              value={model}
              onChange={setModel}
              allowDeselect={false}
              placeholder="Add a model first"
            />
            <TextInput label="Persona name" value={personaName} onChange={(e) => setPersonaName(e.currentTarget.value)} required />
          </Group>
          <TrainingSettings form={form} />
          <Group>
            <Button onClick={() => void train()} disabled={!canSave || !model || !personaName.trim() || busy}>
              Train persona
            </Button>
            {!canSave && (
              <Text size="xs" c="dimmed">
                Needs a name, positive and negative prompts{draft.kind === 'system-prompts' ? ' and questions' : ''}.
              </Text>
            )}
          </Group>
          <RunProgress
            state={training.state}
            onCancel={training.cancel}
            label="Training"
            cancelledNote="Finished batches are kept: press Train persona again with the same prompts and settings to resume where it stopped."
          />
        </Stack>
      </Card>

      <Card withBorder component="section" aria-labelledby="separation-heading">
        <Stack>
          <Group justify="space-between">
            <Title order={3} size="h4" id="separation-heading">
              Separation by layer
            </Title>
            <Select
              label="Persona"
              placeholder="Choose a persona"
              data={personas.map((p) => ({ value: p.id, label: p.name }))}
              onChange={showPersona}
              clearable
              searchable
              w={260}
            />
          </Group>
          {chart ? (
            <SeparationChart title={chart.title} layers={chart.layers} />
          ) : (
            <Text c="dimmed">Train a persona, or choose one, to see how well each layer separates the two sides.</Text>
          )}
        </Stack>
      </Card>

      <FilePicker
        opened={picking}
        onClose={() => setPicking(false)}
        onPick={(f) => load('the prompt-set file', api['promptSets.readFile']({ file: f }))}
        mode="file"
        title="Open a prompt-set file"
        extensions={['.json']}
      />
    </Stack>
  );
}
