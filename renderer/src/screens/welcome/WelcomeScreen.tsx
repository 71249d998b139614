// Welcome (the first run): pick a model — the bundled demo model (no network) or the default
// download (Qwen3-0.6B, with its size and a time estimate) — then make a first persona from a shipped
// prompt set in a few clicks, and end on Compare with that persona preselected
// (#/compare?persona=<id>&model=<id>). Each long step runs as a job: progress, ETA and cancel here,
// and it also appears on the Jobs screen.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Stepper,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import type { AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { TEXT } from '../../colors.ts';
import { formatBytes, formatDuration, screenHref } from '../../format.ts';

type Info = AppResult<'app.info'>;
type Progress = { stage: string; done: number; total: number; etaMs?: number | null };
/** The speed the download estimate assumes, stated next to it. */
const ASSUMED_MBIT_S = 50;
/** A quick first persona: enough pairs for a clear direction on the demo model in about a minute. */
const QUICK_TRAINING = { maxPairs: 32, maxNewTokens: 48 };

function useLongCall() {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ac = useRef<AbortController | null>(null);
  async function run<T>(call: (signal: AbortSignal, onProgress: (p: Progress) => void) => Promise<T>): Promise<T | null> {
    ac.current = new AbortController();
    setRunning(true);
    setError(null);
    setProgress(null);
    try {
      return await call(ac.current.signal, setProgress);
    } catch (e) {
      setError(
        ac.current.signal.aborted
          ? 'Cancelled. Resume it from the Jobs screen, or start again.'
          : e instanceof Error
            ? e.message
            : String(e),
      );
      return null;
    } finally {
      setRunning(false);
    }
  }
  return { progress, running, error, run, cancel: () => ac.current?.abort() };
}

function ProgressLine({ p, label }: { p: Progress | null; label: string }) {
  if (!p) return <Progress value={0} aria-label={label} />;
  const pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : 0;
  return (
    <Stack gap={2}>
      <Progress value={pct} animated aria-label={label} />
      <Text size="xs" c="dimmed">
        {p.stage} {p.stage === 'download' ? `${formatBytes(p.done)} of ${formatBytes(p.total)}` : `${p.done}/${p.total}`}
        {p.etaMs != null ? ` · about ${formatDuration(p.etaMs)} left` : ''}
      </Text>
    </Stack>
  );
}

export function WelcomeScreen() {
  const { api } = useStudio();
  const [info, setInfo] = useState<Info | null>(null);
  const [models, setModels] = useState<AppResult<'models.list'>>([]);
  /** Names already taken (trash included): the suggested name avoids them, so a persona is never named twice. */
  const [taken, setTaken] = useState<Set<string>>(new Set());
  const freeName = (base: string) => {
    let n = base;
    for (let i = 2; taken.has(n); i++) n = `${base} ${i}`;
    return n;
  };
  const [error, setError] = useState<string | null>(null);
  const [step, setStep] = useState(0);
  const [model, setModel] = useState<{ id: string; name: string } | null>(null);
  const [template, setTemplate] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [persona, setPersona] = useState<{ id: string; name: string } | null>(null);
  const adding = useLongCall();
  const training = useLongCall();

  useEffect(() => {
    const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
    api['app.info']({ probeHub: true }).then((i) => {
      setInfo(i);
      const first = i.promptSetFiles[0];
      if (first) {
        setTemplate(first.path);
        setName(first.name);
      }
    }, fail);
    api['models.list']({}).then(setModels, fail);
    Promise.all([api['personas.list']({}), api['personas.list']({ trash: true })]).then(
      ([live, trash]) => setTaken(new Set([...live, ...trash].map((p) => p.name))),
      fail,
    );
  }, [api]);

  const chosen = (m: { modelId: string; name: string } | null) => {
    if (!m) return;
    setModel({ id: m.modelId, name: m.name });
    setName((n) => freeName(n));
    setStep(1);
  };
  const addDemo = () =>
    void adding
      .run((signal, onProgress) => api['models.compile']({ checkpointDir: info!.demoModelDir }, { signal, on: { progress: onProgress } }))
      .then(chosen);
  const download = () =>
    void adding
      .run((signal, onProgress) => api['models.download']({ repo: info!.defaultModel.repo }, { signal, on: { progress: onProgress } }))
      .then(chosen);
  const train = () =>
    void training
      .run((signal, onProgress) =>
        api['personas.train'](
          { model: model!.id, name: name.trim(), promptSet: template!, settings: QUICK_TRAINING },
          { signal, on: { progress: onProgress } },
        ),
      )
      .then((r) => {
        if (!r) return;
        setPersona({ id: r.persona.id, name: r.persona.name });
        setStep(2);
      });

  const dm = info?.defaultModel;
  const estimateMs = dm ? ((dm.downloadBytes * 8) / (ASSUMED_MBIT_S * 1e6)) * 1000 : 0;
  const templateInfo = info?.promptSetFiles.find((p) => p.path === template);

  return (
    <Stack maw={960}>
      <Title order={2}>Welcome to Persona Studio</Title>
      <Text>
        Persona Studio finds directions in a language model that shift its style or character, and lets you steer a chat with them. Three
        steps to your first persona:
      </Text>
      {error && <Alert color="red">{error}</Alert>}
      <Stepper active={step} onStepClick={(s) => s < step && setStep(s)} allowNextStepsSelect={false}>
        <Stepper.Step label="Choose a model" description="bundled or downloaded">
          <SimpleGrid cols={{ base: 1, md: 2 }} mt="md">
            <Card withBorder>
              <Stack>
                <Group justify="space-between">
                  <Title order={3}>Demo model</Title>
                  <Badge variant="light">works offline</Badge>
                </Group>
                <Text size="sm">
                  A tiny chat model that ships with the studio, trained to switch styles: formal/casual, cheerful/gloomy, pirate/plain,
                  verbose/terse, and roles. Ready in seconds.
                </Text>
                <Button onClick={addDemo} disabled={!info || adding.running}>
                  Add the demo model
                </Button>
              </Stack>
            </Card>
            <Card withBorder>
              <Stack>
                <Group justify="space-between">
                  <Title order={3}>{dm?.label ?? 'Qwen3 0.6B'}</Title>
                  {info && (
                    <Badge
                      variant="light"
                      color={dm?.cached ? 'green' : info.hub.reachable ? 'blue' : 'orange'}
                      c={dm?.cached ? TEXT.success : info.hub.reachable ? TEXT.info : TEXT.warning}
                    >
                      {dm?.cached ? 'already downloaded' : info.hub.reachable ? 'download' : 'hub not reachable'}
                    </Badge>
                  )}
                </Group>
                {dm && (
                  <Text size="sm">
                    {dm.repo} ({dm.licence}): a {formatBytes(dm.downloadBytes)} download, about {formatDuration(estimateMs)} at{' '}
                    {ASSUMED_MBIT_S} Mbit/s, then compiled to {dm.precision}; needs about {formatBytes(dm.memoryBytes)} of memory to run.
                  </Text>
                )}
                {info && !dm?.cached && info.hub.reachable === false && (
                  <Text size="sm" c={TEXT.warning}>
                    {info.hub.endpoint} did not answer: this machine looks offline. The demo model needs no network.
                  </Text>
                )}
                <Button onClick={download} disabled={!info || adding.running || (!dm?.cached && info.hub.reachable === false)}>
                  {dm?.cached ? `Add ${dm.label}` : `Download ${dm?.label ?? 'Qwen3 0.6B'}`}
                </Button>
              </Stack>
            </Card>
          </SimpleGrid>
          {adding.running && (
            <Group mt="md" align="end">
              <div style={{ flex: 1 }}>
                <ProgressLine p={adding.progress} label="Adding the model" />
              </div>
              <Button variant="default" onClick={adding.cancel}>
                Cancel
              </Button>
            </Group>
          )}
          {adding.error && (
            <Alert color="red" mt="md">
              {adding.error}
            </Alert>
          )}
          {models.length > 0 && (
            <Group mt="md" align="end">
              <Select
                label="Or use a model already in the library"
                data={models.map((m) => ({ value: m.id, label: m.name }))}
                onChange={(id) => {
                  const m = models.find((x) => x.id === id);
                  if (m) chosen({ modelId: m.id, name: m.name });
                }}
                w={320}
              />
            </Group>
          )}
        </Stepper.Step>

        <Stepper.Step label="Make a persona" description="from a template">
          <Stack mt="md" maw={640}>
            <Text>
              Model: <b>{model?.name}</b>. Pick a shipped prompt set: its positive and negative system prompts teach the model the direction
              between two styles.
            </Text>
            <Select
              label="Template"
              data={(info?.promptSetFiles ?? []).map((p) => ({ value: p.path, label: p.name }))}
              value={template}
              allowDeselect={false}
              onChange={(v) => {
                setTemplate(v);
                const t = info?.promptSetFiles.find((p) => p.path === v);
                if (t) setName(freeName(t.name));
              }}
            />
            {templateInfo && (
              <Text size="sm" c="dimmed">
                {templateInfo.description}
              </Text>
            )}
            <TextInput
              label="Persona name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={name.trim() ? null : 'Persona name: is empty'}
            />
            <Text size="xs" c="dimmed">
              A quick training: {QUICK_TRAINING.maxPairs} prompt pairs per side, replies up to {QUICK_TRAINING.maxNewTokens} tokens. The
              persona editor trains with more.
            </Text>
            <Group>
              <Button onClick={train} disabled={!template || !name.trim() || training.running}>
                Train the persona
              </Button>
              {training.running && (
                <Button variant="default" onClick={training.cancel}>
                  Cancel training
                </Button>
              )}
            </Group>
            {training.running && <ProgressLine p={training.progress} label="Training the persona" />}
            {training.error && <Alert color="red">{training.error}</Alert>}
          </Stack>
        </Stepper.Step>

        <Stepper.Step label="Compare" description="side by side">
          <Stack mt="md" maw={640}>
            <Text>
              <b>{persona?.name}</b> is in your library. Compare replies at several strengths (α) side by side, from one batched run with
              the same seed.
            </Text>
            <Group>
              <Button component="a" href={persona && model ? screenHref('compare', { persona: persona.id, model: model.id }) : undefined}>
                Compare side by side
              </Button>
              <Anchor href={screenHref('jobs')}>See the jobs</Anchor>
            </Group>
          </Stack>
        </Stepper.Step>
      </Stepper>
    </Stack>
  );
}
