// Compare: one prompt answered at several α side by side, all columns streaming from ONE batched
// `compare` run with the same seed (so the differences are the steering's, not the sampler's). Words
// that differ from the reference column (α 0 when it is there, else the first) are highlighted.
// "Save to library" keeps the comparison (compare.save) with its settings.
import { Alert, Button, Group, MultiSelect, NumberInput, Paper, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { appContract, type AppArgs, type AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { EmptyState, ModelSelect, errorText, useModelChoice, usePersonas } from './pickers.tsx';
import { wordDiff } from './word-diff.ts';

const compareArgs = appContract.compare.args;
const DEFAULT_MAX_NEW_TOKENS = compareArgs.shape.maxNewTokens.parse(undefined);
const DEFAULT_ALPHAS = '0, 0.5, 1, 1.5';

/** "0, 0.5, 1" → numbers, or the first entry that is not one. */
function parseAlphas(s: string): { alphas: number[] } | { error: string } {
  const parts = s
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const alphas = parts.map(Number);
  const bad = parts.find((_, i) => !Number.isFinite(alphas[i]));
  return bad === undefined ? { alphas } : { error: `α values: ${JSON.stringify(bad)} is not a number` };
}

function Column({ alpha, text, base, isBase, finish }: { alpha: number; text: string; base: string; isBase: boolean; finish?: string }) {
  const parts = isBase ? [{ text, changed: false }] : wordDiff(base, text);
  return (
    <Paper withBorder p="sm" component="section" aria-label={`Column α ${alpha}`}>
      <Title order={3} size="h5" mb={4}>
        α {alpha}
        {isBase && (
          <Text span size="xs" c="dimmed">
            {' '}
            (reference)
          </Text>
        )}
        {finish && finish !== 'eos' && (
          <Text span size="xs" c="dimmed">
            {' '}
            ({finish})
          </Text>
        )}
      </Title>
      <Text style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
        {parts.map((p, i) =>
          p.changed ? (
            <mark key={i} style={{ background: 'var(--mantine-color-yellow-light)', color: 'inherit', borderRadius: 3 }}>
              {p.text}
            </mark>
          ) : (
            <span key={i}>{p.text}</span>
          ),
        )}
      </Text>
    </Paper>
  );
}

export function CompareScreen() {
  const { api } = useStudio();
  const { models, model, setModel, error: modelsError } = useModelChoice();
  const { personas, error: personasError } = usePersonas(model);
  const [chosen, setChosen] = useState<string[]>([]);
  const [alphaText, setAlphaText] = useState(DEFAULT_ALPHAS);
  const [prompt, setPrompt] = useState('');
  const [system, setSystem] = useState('');
  const [layers, setLayers] = useState('');
  const [seed, setSeed] = useState<number | string>(1);
  const [maxNewTokens, setMaxNewTokens] = useState<number | string>(DEFAULT_MAX_NEW_TOKENS);
  const [texts, setTexts] = useState<string[]>([]);
  const [run, setRun] = useState<{ args: AppArgs<'compare'>; alphas: number[]; abort: AbortController } | null>(null);
  const [result, setResult] = useState<{ args: AppArgs<'compare'>; value: AppResult<'compare'> } | null>(null);
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  useEffect(() => () => abortRef.current?.abort(), []);

  function start() {
    if (!model) return;
    const parsed = parseAlphas(alphaText);
    if ('error' in parsed) return setError(parsed.error);
    const args: AppArgs<'compare'> = {
      model,
      prompt,
      ...(system.trim() ? { system } : {}),
      steering: { personas: chosen.map((persona) => ({ persona })), ...(layers.trim() ? { layers: layers.trim() } : {}) },
      alphas: parsed.alphas,
      sampling: typeof seed === 'number' ? { seed } : {},
      maxNewTokens: typeof maxNewTokens === 'number' ? maxNewTokens : DEFAULT_MAX_NEW_TOKENS,
    };
    const checked = compareArgs.safeParse(args);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      return setError(`${issue.path.join('.') || 'compare'}: ${issue.message}`);
    }
    if (chosen.length === 0) return setError('Personas: pick at least one; every column steers them at its α');
    setError(null);
    setSaved(null);
    setResult(null);
    const abort = new AbortController();
    abortRef.current = abort;
    const acc = parsed.alphas.map(() => '');
    setTexts([...acc]);
    setRun({ args, alphas: parsed.alphas, abort });
    api
      .compare(args, {
        signal: abort.signal,
        on: {
          token: (t) => {
            acc[t.row] += t.text;
            setTexts([...acc]);
          },
        },
      })
      .then(
        (value) => {
          setTexts(value.columns.map((c) => c.text));
          setResult({ args, value });
          setName((n) => n || prompt.slice(0, 60));
        },
        (e: unknown) => setError(errorText(e)),
      )
      .finally(() => setRun(null));
  }

  function save() {
    if (!result) return;
    const { args, value } = result;
    const parsedArgs = compareArgs.parse(args); // defaults applied: what the run used
    api['compare.save']({
      name,
      config: {
        model: parsedArgs.model,
        prompt: parsedArgs.prompt,
        ...(parsedArgs.system ? { system: parsedArgs.system } : {}),
        steering: parsedArgs.steering,
        alphas: parsedArgs.alphas,
        maxNewTokens: parsedArgs.maxNewTokens,
        sampling: { ...parsedArgs.sampling, seed: value.seed },
      },
      results: value,
    }).then(
      (c) => setSaved(`Saved “${c.name}” to the library.`),
      (e: unknown) => setError(errorText(e)),
    );
  }

  const alphas = run?.alphas ?? result?.value.columns.map((c) => c.alpha) ?? [];
  const baseIndex = Math.max(0, alphas.indexOf(0));
  const busy = run !== null;
  return (
    <Stack>
      <Title order={2}>Compare</Title>
      {(modelsError ?? personasError) && <Alert color="red">{modelsError ?? personasError}</Alert>}
      <EmptyState models={models} personas={personas} />
      {models && models.length > 0 && (
        <Stack gap="sm" component="form" onSubmit={(e) => (e.preventDefault(), start())} aria-label="Comparison settings">
          <Group align="flex-end">
            <ModelSelect
              models={models}
              model={model}
              onChange={(m) => {
                setModel(m);
                setChosen([]);
              }}
              disabled={busy}
            />
            <MultiSelect
              label="Personas"
              description="every column steers these at its α"
              data={(personas ?? []).map((p) => ({ value: p.id, label: p.name }))}
              value={chosen}
              onChange={setChosen}
              searchable
              clearable
              w={320}
            />
            <TextInput
              label="α values"
              description="comma-separated, 2 to 16"
              value={alphaText}
              onChange={(e) => setAlphaText(e.currentTarget.value)}
              w={200}
            />
          </Group>
          <Textarea label="Prompt" autosize minRows={2} value={prompt} onChange={(e) => setPrompt(e.currentTarget.value)} />
          <Group align="flex-end">
            <TextInput label="System prompt" value={system} onChange={(e) => setSystem(e.currentTarget.value)} w={320} />
            <TextInput
              label="Layers"
              description="empty: recommendation or default"
              value={layers}
              onChange={(e) => setLayers(e.currentTarget.value)}
              w={200}
            />
            <NumberInput
              label="Seed"
              description="shared by every column"
              min={0}
              allowDecimal={false}
              value={seed}
              onChange={setSeed}
              w={140}
            />
            <NumberInput label="Max new tokens" min={1} allowDecimal={false} value={maxNewTokens} onChange={setMaxNewTokens} w={140} />
          </Group>
          <Group>
            <Button type="submit" disabled={busy || !prompt.trim()}>
              Compare
            </Button>
            <Button variant="default" onClick={() => run?.abort.abort()} disabled={!busy}>
              Stop
            </Button>
          </Group>
        </Stack>
      )}
      {error && (
        <Alert color="red" title="Error" withCloseButton onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      {alphas.length > 0 && (
        <>
          <Text size="sm" c="dimmed">
            Highlighted: words that differ from the α {alphas[baseIndex]} column.
            {result && ` Seed ${result.value.seed}; ${result.value.steering.join('; ')}.`}
          </Text>
          <SimpleGrid cols={{ base: 1, sm: Math.min(alphas.length, 2), lg: Math.min(alphas.length, 4) }} aria-busy={busy}>
            {alphas.map((alpha, i) => (
              <Column
                key={i}
                alpha={alpha}
                text={texts[i] ?? ''}
                base={texts[baseIndex] ?? ''}
                isBase={i === baseIndex}
                finish={result?.value.columns[i]?.finish}
              />
            ))}
          </SimpleGrid>
        </>
      )}
      {result && (
        <Group align="flex-end">
          <TextInput label="Comparison name" value={name} onChange={(e) => setName(e.currentTarget.value)} w={320} />
          <Button onClick={save} disabled={!name.trim()}>
            Save to library
          </Button>
          {saved && (
            <Text size="sm" role="status">
              {saved}
            </Text>
          )}
        </Group>
      )}
    </Stack>
  );
}
