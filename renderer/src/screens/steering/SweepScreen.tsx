// Layer sweep: run a persona's layer × α sweep (sweep.run: progress with ETA, cancel; the same run
// resumes from its finished batches), or open a stored one; a heatmap of a chosen metric with the
// recommended cell starred; a cell's replies beside the unsteered ones; and "Use recommendation" /
// "Use this cell", which store the (layer, α) that steering then takes (sweep.use).
import { Alert, Button, Group, NumberInput, Progress, Select, Stack, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { AppArgs, AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { EmptyState, ModelSelect, errorText, useModelChoice, usePersonas } from './pickers.tsx';
import { SweepHeatmap } from './SweepHeatmap.tsx';

type Sweep = AppResult<'sweep.get'>;
type Cell = Sweep['cells'][number];

const METRICS = [
  { value: 'traitGain', label: 'Trait gain' },
  { value: 'perplexity', label: 'Perplexity' },
  { value: 'kl', label: 'KL on neutral prompts' },
  { value: 'markerScore', label: 'Marker score' },
] as const;
type Metric = (typeof METRICS)[number]['value'];

const numberOrUndefined = (v: number | string) => (typeof v === 'number' ? v : undefined);

function eta(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  const s = Math.round(ms / 1000);
  return s < 60 ? `, about ${s} s left` : `, about ${Math.round(s / 60)} min left`;
}

export function SweepScreen() {
  const { api } = useStudio();
  const { models, model, setModel, error: modelsError } = useModelChoice();
  const { personas, error: personasError } = usePersonas(model);
  const [persona, setPersona] = useState<string | null>(null);
  const [layers, setLayers] = useState('');
  const [alphaText, setAlphaText] = useState('');
  const [samples, setSamples] = useState<number | string>('');
  const [maxNewTokens, setMaxNewTokens] = useState<number | string>('');
  const [seed, setSeed] = useState<number | string>('');
  const [questionText, setQuestionText] = useState('');
  const [progress, setProgress] = useState<{ stage: string; done: number; total: number; etaMs?: number | null } | null>(null);
  const [running, setRunning] = useState<AbortController | null>(null);
  const [stored, setStored] = useState<AppResult<'sweep.list'>>([]);
  const [sweep, setSweep] = useState<Sweep | null>(null);
  const [metric, setMetric] = useState<Metric>('traitGain');
  const [cell, setCell] = useState<{ layer: number; alpha: number } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  useEffect(() => () => abortRef.current?.abort(), []);

  const chosenPersona = persona ?? personas?.[0]?.id ?? null;
  useEffect(() => {
    if (!chosenPersona || !model) return;
    api['sweep.list']({ persona: chosenPersona, model }).then(setStored, (e: unknown) => setError(errorText(e)));
  }, [api, chosenPersona, model, sweep?.id]);

  function open(id: string | null) {
    if (!id) return;
    api['sweep.get']({ sweep: id }).then(
      (s) => {
        setSweep(s);
        setCell(
          s.recommendation.layer !== null && s.recommendation.alpha !== null
            ? { layer: s.recommendation.layer, alpha: s.recommendation.alpha }
            : null,
        );
      },
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
    if (alphas?.some((a) => !Number.isFinite(a))) return setError(`α values: ${JSON.stringify(alphaText)} is not a list of numbers`);
    const args: AppArgs<'sweep.run'> = {
      model,
      persona: chosenPersona,
      ...(layers.trim() ? { layers: layers.trim() } : {}),
      ...(alphas ? { alphas } : {}),
      ...(questionText.trim() ? { questions: questionText.split('\n').filter((q) => q.trim()) } : {}),
      samples: numberOrUndefined(samples),
      maxNewTokens: numberOrUndefined(maxNewTokens),
      seed: numberOrUndefined(seed),
    };
    setError(null);
    setNotice(null);
    const abort = new AbortController();
    abortRef.current = abort;
    setRunning(abort);
    setProgress(null);
    api['sweep.run'](args, { signal: abort.signal, on: { progress: setProgress } })
      .then(
        (r) => {
          setSweep(r.sweep);
          const rec = r.sweep.recommendation;
          setCell(rec.layer !== null && rec.alpha !== null ? { layer: rec.layer, alpha: rec.alpha } : null);
          if (r.resumedBatches) setNotice(`Resumed: ${r.resumedBatches} generation batches were already done.`);
        },
        (e: unknown) =>
          setError(
            abort.signal.aborted
              ? 'Sweep cancelled; its finished batches are kept: run it again with the same settings to resume.'
              : errorText(e),
          ),
      )
      .finally(() => setRunning(null));
  }

  function use(c: { layer: number; alpha: number }) {
    if (!sweep) return;
    api['sweep.use']({ sweep: sweep.id, layer: c.layer, alpha: c.alpha }).then(
      (r) => {
        setSweep({ ...sweep, inUse: r.inUse });
        setNotice(`Steering now uses layer ${r.inUse.layer}, α ${r.inUse.alpha} for this persona when no layer or α is given.`);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }

  const metricLabel = METRICS.find((m) => m.value === metric)!.label;
  const at = (l: number, a: number): Cell | undefined => sweep?.cells.find((c) => c.layer === l && c.alpha === a);
  // Memoised: the heatmap redraws only when the sweep or the metric changes, not on every progress event.
  const z = useMemo(
    () =>
      sweep
        ? sweep.layers.map((l) => sweep.alphas.map((a) => sweep.cells.find((c) => c.layer === l && c.alpha === a)?.[metric] ?? null))
        : [],
    [sweep, metric],
  );
  const recLayer = sweep?.recommendation.layer ?? null;
  const recAlpha = sweep?.recommendation.alpha ?? null;
  const rec = useMemo(() => (recLayer !== null && recAlpha !== null ? { layer: recLayer, alpha: recAlpha } : null), [recLayer, recAlpha]);
  const selected = cell && sweep ? at(cell.layer, cell.alpha) : undefined;
  const questions = sweep ? [...new Set(sweep.samples.map((s) => s.question))] : [];
  const reply = (q: string, layer: number | null, alpha: number) =>
    sweep?.samples.find((s) => s.question === q && s.layer === layer && (layer === null || s.alpha === alpha))?.text ?? '';
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));

  return (
    <Stack>
      <Title order={2}>Layer sweep</Title>
      {(modelsError ?? personasError) && <Alert color="red">{modelsError ?? personasError}</Alert>}
      <EmptyState models={models} personas={personas} />
      {models && models.length > 0 && personas && personas.length > 0 && (
        <Stack gap="sm" component="form" aria-label="Sweep settings" onSubmit={(e) => (e.preventDefault(), run())}>
          <Group align="flex-end">
            <ModelSelect
              models={models}
              model={model}
              onChange={(m) => {
                setModel(m);
                setPersona(null);
                setSweep(null);
              }}
              disabled={running !== null}
            />
            <Select
              label="Persona"
              data={personas.map((p) => ({ value: p.id, label: p.name }))}
              value={chosenPersona}
              onChange={(p) => {
                setPersona(p);
                setSweep(null);
              }}
              allowDeselect={false}
              disabled={running !== null}
              w={240}
            />
            <TextInput
              label="Layers"
              placeholder="every layer the persona has"
              value={layers}
              onChange={(e) => setLayers(e.currentTarget.value)}
              w={200}
            />
            <TextInput
              label="α values"
              placeholder="empty: the default grid"
              value={alphaText}
              onChange={(e) => setAlphaText(e.currentTarget.value)}
              w={220}
            />
          </Group>
          <Group align="flex-end">
            <NumberInput label="Samples" placeholder="default" min={1} allowDecimal={false} value={samples} onChange={setSamples} w={120} />
            <NumberInput
              label="Max new tokens"
              placeholder="default"
              min={1}
              allowDecimal={false}
              value={maxNewTokens}
              onChange={setMaxNewTokens}
              w={140}
            />
            <NumberInput label="Seed" placeholder="default" min={0} allowDecimal={false} value={seed} onChange={setSeed} w={120} />
            <Button type="submit" disabled={running !== null}>
              Run sweep
            </Button>
            <Button variant="default" onClick={() => running?.abort()} disabled={running === null}>
              Cancel
            </Button>
          </Group>
          <Textarea
            label="Questions"
            description="one per line; empty: the held-out questions of the persona's prompt set. Empty fields take the sweep's defaults."
            autosize
            minRows={1}
            maxRows={6}
            value={questionText}
            onChange={(e) => setQuestionText(e.currentTarget.value)}
          />
        </Stack>
      )}
      {running && (
        <Stack gap={4}>
          <Progress value={progress && progress.total ? (100 * progress.done) / progress.total : 0} aria-label="Sweep progress" animated />
          <Text size="sm" role="status">
            {progress
              ? `${progress.stage === 'score' ? 'Scoring' : progress.stage === 'generate' ? 'Generating replies' : progress.stage}: ${progress.done} of ${progress.total}${eta(progress.etaMs)}`
              : 'Starting…'}
          </Text>
        </Stack>
      )}
      {error && (
        <Alert color="red" title="Sweep" withCloseButton onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      {notice && (
        <Alert color="green" withCloseButton onClose={() => setNotice(null)}>
          {notice}
        </Alert>
      )}
      {stored.length > 0 && (
        <Select
          label="Stored sweep"
          placeholder="Open a stored sweep"
          data={stored.map((s) => ({
            value: s.id,
            label: `${new Date(s.createdAt).toLocaleString()} · layers ${s.layers.join(',')} · ${s.alphas.length} α${s.recommendation.layer !== null ? ` · recommends layer ${s.recommendation.layer}, α ${s.recommendation.alpha}` : ''}`,
          }))}
          value={sweep?.id ?? null}
          onChange={open}
          w={560}
        />
      )}
      {chosenPersona && stored.length === 0 && !sweep && !running && <Text c="dimmed">No sweeps of this persona yet: run one above.</Text>}
      {sweep && (
        <Stack gap="sm">
          <Title order={3} size="h4">
            {sweep.name}
          </Title>
          <Text size="sm">
            {rec ? (
              <>
                <b>
                  Recommended: layer {rec.layer}, α {rec.alpha}
                </b>{' '}
                — {sweep.recommendation.reason}
              </>
            ) : (
              <>No recommendation: {sweep.recommendation.reason}</>
            )}
          </Text>
          <Text size="xs" c="dimmed">
            Rule: {sweep.recommendation.rule}. Unsteered reply perplexity {fmt(sweep.baseline.perplexity)}. Questions from{' '}
            {sweep.questionsFrom}.
          </Text>
          <Text size="sm">
            {sweep.inUse
              ? `In use: layer ${sweep.inUse.layer}, α ${sweep.inUse.alpha}.`
              : 'No layer or α from a sweep is in use for this persona.'}
          </Text>
          <Group align="flex-end">
            <Select
              label="Metric"
              data={METRICS.map((m) => ({ value: m.value, label: m.label }))}
              value={metric}
              onChange={(v) => v && setMetric(v as Metric)}
              allowDeselect={false}
              w={220}
            />
            <Select
              label="Cell"
              data={sweep.cells.map((c) => ({ value: `${c.layer}|${c.alpha}`, label: `layer ${c.layer}, α ${c.alpha}` }))}
              value={cell ? `${cell.layer}|${cell.alpha}` : null}
              onChange={(v) => {
                if (!v) return;
                const [l, a] = v.split('|').map(Number);
                setCell({ layer: l!, alpha: a! });
              }}
              w={200}
            />
            <Button onClick={() => rec && use(rec)} disabled={!rec}>
              Use recommendation
            </Button>
            <Button variant="default" onClick={() => cell && use(cell)} disabled={!cell}>
              Use this cell
            </Button>
          </Group>
          <SweepHeatmap
            layers={sweep.layers}
            alphas={sweep.alphas}
            z={z}
            metricLabel={metricLabel}
            recommended={rec}
            selected={cell}
            onSelect={setCell}
          />
          {selected && (
            <Stack gap="xs">
              <Text size="sm" fw={500}>
                Layer {selected.layer}, α {selected.alpha}: trait gain {fmt(selected.traitGain)}, perplexity {fmt(selected.perplexity)}, KL{' '}
                {fmt(selected.kl)}
                {selected.markerScore !== null && `, marker score ${fmt(selected.markerScore)}`}, {selected.meanTokens.toFixed(1)} tokens
                per reply
              </Text>
              <Table aria-label="Samples" withTableBorder verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Question</Table.Th>
                    <Table.Th>Unsteered</Table.Th>
                    <Table.Th>
                      Layer {selected.layer}, α {selected.alpha}
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {questions.map((q) => (
                    <Table.Tr key={q}>
                      <Table.Td>{q}</Table.Td>
                      <Table.Td style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{reply(q, null, 0)}</Table.Td>
                      <Table.Td style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                        {reply(q, selected.layer, selected.alpha)}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Stack>
          )}
        </Stack>
      )}
    </Stack>
  );
}
