// Evaluate: a persona steered at its recommendation (else the defaults, said so) against the
// unsteered model (eval.run: progress with ETA, cancel; the same run resumes from its finished
// batches), then the metrics side by side, α curves when more than one α was evaluated, the
// samples side by side — a stored evaluation opens the same way (eval.list, eval.get) — and
// "Export report": the stored evaluation's report written again (eval.export) as HTML, JSON or PDF
// to a folder on the server. In Electron a PDF could come from webContents.printToPDF instead; here
// it is printed on the server by a headless Chromium when one is installed, else the HTML with its
// print stylesheet is written and the reason shown.
import { Alert, Button, Checkbox, Group, NumberInput, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import type { AppArgs, AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { useRun } from '../../components/run.ts';
import { RunProgress } from '../../components/RunProgress.tsx';
import { PathField } from '../../components/FilePicker.tsx';
import { EmptyState, ModelSelect, errorText, useModelChoice, usePersonas } from '../steering/pickers.tsx';
import { AlphaCurves } from './AlphaCurves.tsx';

type Run = AppResult<'eval.run'>;
type Report = Run['report'];
type Column = Report['unsteered'];
type ReportFile = AppResult<'eval.export'>;
type JudgeChoice = 'none' | 'local' | 'endpoint';
type Format = 'html' | 'json' | 'pdf';

const numberOrUndefined = (v: number | string) => (typeof v === 'number' ? v : undefined);
const fmt = (x: number | null | undefined, digits: number) => (typeof x === 'number' ? x.toFixed(digits) : '—');
const heading = (c: Column, steeredAlpha: number) =>
  c.alpha === null ? 'Unsteered' : `α ${c.alpha}${c.alpha === steeredAlpha ? ' (steered)' : ''}`;

/** The metric rows of the table (and the curves' choices): label, value, digits, log scale. */
function metricRows(rep: Report) {
  const cols = [rep.unsteered, ...rep.steered];
  const rows: { key: string; label: string; value(c: Column): number | null; digits: number; log?: boolean }[] = [
    { key: 'traitGain', label: 'Trait gain (projection rise / residual norm)', value: (c) => c.traitGain, digits: 4 },
    { key: 'projection', label: 'Projection on the direction', value: (c) => c.projection, digits: 3 },
    { key: 'perplexity', label: 'Reply perplexity (unsteered model)', value: (c) => c.perplexity, digits: 3, log: true },
    { key: 'kl', label: 'KL on neutral prompts (nats)', value: (c) => c.kl, digits: 4 },
  ];
  if (cols.some((c) => c.markerScore !== null))
    rows.push({ key: 'markers', label: 'Marker score (per 100 words)', value: (c) => c.markerScore, digits: 2 });
  rows.push({ key: 'tokens', label: 'Mean reply tokens', value: (c) => c.meanTokens, digits: 1 });
  if (cols.some((c) => c.judge !== null)) {
    rows.push({ key: 'judgeTrait', label: 'Judge: trait 0–100', value: (c) => c.judge?.trait ?? null, digits: 1 });
    rows.push({ key: 'judgeCoherence', label: 'Judge: coherence 0–100', value: (c) => c.judge?.coherence ?? null, digits: 1 });
  }
  return rows;
}

export function EvaluateScreen() {
  const { api } = useStudio();
  const { models, model, setModel, error: modelsError } = useModelChoice();
  const { personas, error: personasError } = usePersonas(model);
  const [persona, setPersona] = useState<string | null>(null);
  const [questionsFile, setQuestionsFile] = useState('');
  const [promptSet, setPromptSet] = useState<string | null>(null);
  const [promptSets, setPromptSets] = useState<AppResult<'promptSets.list'>>([]);
  const [judge, setJudge] = useState<JudgeChoice>('none');
  const [settings, setSettings] = useState<AppResult<'settings.get'>['settings'] | null>(null);
  const [alphaText, setAlphaText] = useState('');
  const [samples, setSamples] = useState<number | string>('');
  const [maxNewTokens, setMaxNewTokens] = useState<number | string>('');
  const [seed, setSeed] = useState<number | string>('');
  const [result, setResult] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { state, start, cancel } = useRun();

  useEffect(() => {
    api['promptSets.list']({}).then(setPromptSets, (e: unknown) => setError(errorText(e)));
    api['settings.get']({}).then(
      (v) => setSettings(v.settings),
      (e: unknown) => setError(errorText(e)),
    );
  }, [api]);

  const chosenPersona = persona ?? personas?.[0]?.id ?? null;
  const personaName = personas?.find((p) => p.id === chosenPersona)?.name ?? '';
  const [stored, setStored] = useState<AppResult<'eval.list'>>([]);
  useEffect(() => {
    if (!chosenPersona || !model) return;
    api['eval.list']({ persona: chosenPersona, model }).then(setStored, (e: unknown) => setError(errorText(e)));
  }, [api, chosenPersona, model, result?.evaluationId]);
  function open(id: string | null) {
    if (!id) return;
    api['eval.get']({ evaluation: id }).then(
      (r) => setResult({ ...r, resumedBatches: 0, reportFile: null }),
      (e: unknown) => setError(errorText(e)),
    );
  }

  function run() {
    if (!model || !chosenPersona) return;
    const alphas = alphaText.trim()
      ? alphaText
          .split(/[,\s]+/)
          .filter(Boolean)
          .map(Number)
      : undefined;
    if (alphas?.some((a) => !Number.isFinite(a))) return setError(`More α values: ${JSON.stringify(alphaText)} is not a list of numbers`);
    if (judge === 'endpoint' && !settings?.judgeUrl) return setError('Judge: no endpoint is set; give its URL on the Settings screen');
    const args: AppArgs<'eval.run'> = {
      model,
      persona: chosenPersona,
      ...(questionsFile.trim() ? { questions: questionsFile.trim() } : {}),
      ...(promptSet ? { promptSet } : {}),
      ...(judge === 'local' ? { judge: { kind: 'local' as const } } : {}),
      ...(judge === 'endpoint' && settings
        ? { judge: { kind: 'endpoint' as const, url: settings.judgeUrl, model: settings.judgeModel } }
        : {}),
      settings: {
        ...(alphas ? { alphas } : {}),
        samples: numberOrUndefined(samples),
        maxNewTokens: numberOrUndefined(maxNewTokens),
        seed: numberOrUndefined(seed),
      },
    };
    setError(null);
    void start((h) => api['eval.run'](args, { signal: h.signal, on: { progress: h.onProgress } })).then((r) => r && setResult(r));
  }

  const ready = models && models.length > 0 && personas && personas.length > 0;
  return (
    <Stack>
      <Title order={2}>Evaluate</Title>
      <Text c="dimmed" size="sm">
        How well a persona works and what it costs the model: steered at its recommended layer and α against the unsteered model, on
        questions it was not trained on.
      </Text>
      {(modelsError ?? personasError) && <Alert color="red">{modelsError ?? personasError}</Alert>}
      <EmptyState models={models} personas={personas} />
      {ready && (
        <Stack gap="sm" component="form" aria-label="Evaluation settings" onSubmit={(e) => (e.preventDefault(), run())}>
          <Group align="flex-end">
            <ModelSelect
              models={models}
              model={model}
              onChange={(m) => {
                setModel(m);
                setPersona(null);
                setResult(null);
              }}
              disabled={state.running}
            />
            <Select
              label="Persona"
              data={personas.map((p) => ({ value: p.id, label: p.name }))}
              value={chosenPersona}
              onChange={(p) => {
                setPersona(p);
                setResult(null);
              }}
              allowDeselect={false}
              disabled={state.running}
              w={240}
            />
            <Select
              label="Judge"
              description={judge === 'endpoint' ? settings?.judgeUrl || 'no endpoint set: see Settings' : undefined}
              data={[
                { value: 'none', label: 'None' },
                { value: 'local', label: 'The model itself (local)' },
                { value: 'endpoint', label: 'The endpoint in Settings', disabled: !settings?.judgeUrl },
              ]}
              value={judge}
              onChange={(v) => v && setJudge(v as JudgeChoice)}
              allowDeselect={false}
              w={240}
            />
          </Group>
          <Group align="flex-end" grow>
            <PathField
              label="Questions file"
              description="optional: a prompt list on the server (text, one a line; JSON; JSON Lines)"
              value={questionsFile}
              onChange={(v) => {
                setQuestionsFile(v);
                if (v) setPromptSet(null);
              }}
              mode="file"
              extensions={['.txt', '.json', '.jsonl']}
            />
            <Select
              label="Prompt set"
              description="optional: its held-out questions"
              placeholder="The persona's own prompt set"
              data={promptSets.map((p) => ({ value: p.id, label: p.name }))}
              value={promptSet}
              onChange={(v) => {
                setPromptSet(v);
                if (v) setQuestionsFile('');
              }}
              clearable
            />
          </Group>
          <Group align="flex-end">
            <TextInput
              label="More α values"
              description="for α curves; the steered α is always in"
              placeholder="e.g. 0.5, 2"
              value={alphaText}
              onChange={(e) => setAlphaText(e.currentTarget.value)}
              w={220}
            />
            <NumberInput
              label="Samples"
              placeholder="1"
              min={1}
              max={64}
              allowDecimal={false}
              value={samples}
              onChange={setSamples}
              w={110}
            />
            <NumberInput
              label="Max new tokens"
              placeholder="48"
              min={1}
              max={4096}
              allowDecimal={false}
              value={maxNewTokens}
              onChange={setMaxNewTokens}
              w={140}
            />
            <NumberInput label="Seed" placeholder="1" min={0} allowDecimal={false} value={seed} onChange={setSeed} w={110} />
            <Button type="submit" disabled={state.running}>
              Run evaluation
            </Button>
          </Group>
        </Stack>
      )}
      <RunProgress
        state={state}
        onCancel={cancel}
        label="Evaluation"
        cancelledNote="Its finished batches are kept: run it again with the same settings to resume."
      />
      {error && (
        <Alert color="red" title="Evaluate" withCloseButton closeButtonLabel="Dismiss" onClose={() => setError(null)} role="alert">
          {error}
        </Alert>
      )}
      {ready && stored.length > 0 && (
        <Select
          label="Stored evaluation"
          placeholder="Open a stored evaluation"
          data={stored.map((e) => ({
            value: e.id,
            label: `${new Date(e.createdAt).toLocaleString()} · layer ${e.layer}, α ${e.alpha} (${e.source}) · ${e.questions} questions`,
          }))}
          value={result?.evaluationId ?? null}
          onChange={open}
          disabled={state.running}
          w={560}
        />
      )}
      {ready && !result && !state.running && (
        <Text c="dimmed">No evaluation yet: choose a persona and run one. Empty fields take the defaults.</Text>
      )}
      {result && <EvaluationView run={result} personaName={personaName} />}
    </Stack>
  );
}

function EvaluationView({ run, personaName }: { run: Run; personaName: string }) {
  const rep = run.report;
  const at = rep.steeredAt;
  const cols = [rep.unsteered, ...rep.steered];
  const rows = useMemo(() => metricRows(rep), [rep]);
  const [curve, setCurve] = useState('traitGain');
  const curveRow = rows.find((r) => r.key === curve) ?? rows[0]!;
  const curveAlphas = useMemo(() => [0, ...rep.steered.map((c) => c.alpha ?? 0)], [rep]);
  const curveValues = useMemo(() => [rep.unsteered, ...rep.steered].map((c) => curveRow.value(c)), [rep, curveRow]);
  const first = (q: string, alpha: number | null) => rep.samples.find((s) => s.question === q && s.alpha === alpha);
  const judged = rep.unsteered.judge !== null;
  return (
    <Stack gap="sm">
      {run.resumedBatches > 0 && <Alert color="green">Resumed: {run.resumedBatches} generation batches were already done.</Alert>}
      <Alert
        // Gray, not green: a green alert's title is below 4.5:1 contrast in the light scheme.
        color={at.source === 'default' ? 'yellow' : 'gray'}
        title={`Steered at layer ${at.layer}, α ${at.alpha}${at.source === 'default' ? ': the defaults' : ''}`}
      >
        <Text size="sm">{at.note}.</Text>
        {at.recommendation && <Text size="sm">Recommendation rule: {at.recommendation.rule}.</Text>}
        {at.source === 'default' && <Text size="sm">Run a Layer sweep for a measured layer and α, then evaluate again.</Text>}
      </Alert>
      <Title order={3} size="h4">
        Unsteered vs steered
      </Title>
      <Table aria-label="Metrics, unsteered vs steered" withTableBorder verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Metric</Table.Th>
            {cols.map((c) => (
              <Table.Th key={String(c.alpha)}>{heading(c, at.alpha)}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.key}>
              <Table.Th scope="row">{r.label}</Table.Th>
              {cols.map((c) => (
                <Table.Td key={String(c.alpha)}>{fmt(r.value(c), r.digits)}</Table.Td>
              ))}
            </Table.Tr>
          ))}
          <Table.Tr>
            <Table.Th scope="row">Empty replies</Table.Th>
            {cols.map((c) => (
              <Table.Td key={String(c.alpha)}>{c.emptyReplies}</Table.Td>
            ))}
          </Table.Tr>
          {judged && (
            <Table.Tr>
              <Table.Th scope="row">Judge: replies scored</Table.Th>
              {cols.map((c) => (
                <Table.Td key={String(c.alpha)}>
                  {c.judge?.scored ?? 0} of {c.judge?.total ?? 0}
                </Table.Td>
              ))}
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        {rep.questions.length} questions from {String(rep.provenance.questionsFrom ?? '')} · judge {String(rep.provenance.judge ?? 'none')}
      </Text>
      {rep.steered.length > 1 && (
        <Stack gap="xs">
          <Title order={3} size="h4">
            α curves at layer {at.layer}
          </Title>
          <Select
            label="Curve metric"
            data={rows.map((r) => ({ value: r.key, label: r.label }))}
            value={curveRow.key}
            onChange={(v) => v && setCurve(v)}
            allowDeselect={false}
            w={360}
          />
          <AlphaCurves alphas={curveAlphas} values={curveValues} metricLabel={curveRow.label} layer={at.layer} log={!!curveRow.log} />
        </Stack>
      )}
      <Title order={3} size="h4">
        Samples side by side
      </Title>
      <Table aria-label="Samples side by side" withTableBorder verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Question</Table.Th>
            {cols.map((c) => (
              <Table.Th key={String(c.alpha)}>{heading(c, at.alpha)}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rep.questions.map((q) => (
            <Table.Tr key={q}>
              <Table.Th scope="row" fw={500}>
                {q}
              </Table.Th>
              {cols.map((c) => {
                const s = first(q, c.alpha);
                return (
                  <Table.Td key={String(c.alpha)} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                    {s?.text ?? ''}
                    {s?.judge && (
                      <Text size="xs" c="dimmed">
                        judge: trait {fmt(s.judge.trait, 0)}, coherence {fmt(s.judge.coherence, 0)}
                      </Text>
                    )}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <ExportReport evaluationId={run.evaluationId} baseName={`eval-${personaName || 'persona'}`.replace(/[^\w.-]+/g, '-')} />
    </Stack>
  );
}

/** "Export report": a folder on the server (the picker), a file name, a format; eval.export writes it. */
function ExportReport({ evaluationId, baseName }: { evaluationId: string; baseName: string }) {
  const { api } = useStudio();
  const [folder, setFolder] = useState('');
  const [format, setFormat] = useState<Format>('html');
  const [name, setName] = useState(`${baseName}.html`);
  const [overwrite, setOverwrite] = useState(false);
  const [written, setWritten] = useState<ReportFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { state, start, cancel } = useRun();
  useEffect(() => {
    api['files.places']({}).then(
      (p) => setFolder((f) => f || p.dataDir),
      () => {},
    );
  }, [api]);
  const setKind = (f: Format) => {
    setFormat(f);
    setName((n) => `${n.replace(/\.(html?|json|pdf)$/i, '') || baseName}.${f}`);
  };
  function exportReport() {
    const dir = folder.trim().replace(/[\\/]+$/, '');
    if (!dir) return setError('Folder: choose where to write the report');
    if (!name.trim()) return setError('File name: give the report a name');
    const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
    setError(null);
    setWritten(null);
    void start((h) =>
      api['eval.export']({ evaluation: evaluationId, path: `${dir}${sep}${name.trim()}`, overwrite }, { signal: h.signal }),
    ).then((r) => r && setWritten(r));
  }
  return (
    <Stack gap="xs" component="form" aria-label="Export report" onSubmit={(e) => (e.preventDefault(), exportReport())}>
      <Title order={3} size="h4">
        Export report
      </Title>
      <Group align="flex-end" grow>
        <PathField label="Folder" value={folder} onChange={setFolder} mode="dir" description="on the server" />
        <TextInput label="File name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Select
          label="Format"
          data={[
            { value: 'html', label: 'HTML (opens offline)' },
            { value: 'json', label: 'JSON (every setting and sample)' },
            { value: 'pdf', label: 'PDF' },
          ]}
          value={format}
          onChange={(v) => v && setKind(v as Format)}
          allowDeselect={false}
        />
      </Group>
      <Group>
        <Checkbox label="Replace a file already there" checked={overwrite} onChange={(e) => setOverwrite(e.currentTarget.checked)} />
        <Button type="submit" disabled={state.running}>
          Export report
        </Button>
      </Group>
      <RunProgress state={state} onCancel={cancel} label="Export" cancelledNote="No report was written." />
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      {written &&
        (written.fallback ? (
          <Alert color="yellow" role="status" title="Wrote the HTML instead of a PDF">
            {written.fallback}
          </Alert>
        ) : (
          <Alert color="green" role="status" aria-label="Report written">
            <Text size="sm" fw={500}>
              Report written: {written.path} ({written.kind.toUpperCase()}).
            </Text>
          </Alert>
        ))}
    </Stack>
  );
}
