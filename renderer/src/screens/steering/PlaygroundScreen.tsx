// Playground: chat with a model steered by several personas at once, each with its own α slider.
// Replies stream token by token with the live trait meter. Moving a slider while a reply streams
// changes the rest of that reply: chat.steer cuts the running generation and main continues the
// same reply from the text already shown under the new α (preload/contract.ts, `chat`). Where the
// steering changed is marked in the reply.
import {
  Alert,
  Badge,
  Button,
  Grid,
  Group,
  NumberInput,
  Paper,
  ScrollArea,
  Stack,
  Switch,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { appContract, type AppArgs } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import {
  EmptyState,
  ModelSelect,
  PersonaMix,
  errorText,
  newStreamId,
  steeringOf,
  useModelChoice,
  usePersonas,
  type PersonaAlpha,
} from './pickers.tsx';
import { TraitMeter, type Meter } from './TraitMeter.tsx';

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  /** Character offsets in `content` where the steering changed mid-reply. */
  restyles?: number[];
  note?: string;
}

interface Streaming {
  stream: string;
  text: string;
  restyles: number[];
  projections: number[];
  abort: AbortController;
}

const chatArgs = appContract.chat.args;
const STEER_DEBOUNCE_MS = 150;
const DEFAULT_MAX_NEW_TOKENS = chatArgs.shape.maxNewTokens.parse(undefined);

/** The reply with a marker where the steering changed. */
function ReplyText({ text, restyles }: { text: string; restyles: number[] }) {
  const cuts = [0, ...restyles, text.length];
  return (
    <Text style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
      {cuts.slice(0, -1).map((from, i) => (
        <span key={from}>
          {i > 0 && (
            <Badge size="xs" variant="light" mx={2} title="The steering changed here; the rest was generated under the new α">
              α changed
            </Badge>
          )}
          {text.slice(from, cuts[i + 1])}
        </span>
      ))}
    </Text>
  );
}

export function PlaygroundScreen() {
  const { api } = useStudio();
  const { models, model, setModel, error: modelsError } = useModelChoice();
  const { personas, error: personasError } = usePersonas(model);
  const [mix, setMix] = useState<PersonaAlpha[]>([]);
  const [layers, setLayers] = useState('');
  const [system, setSystem] = useState('');
  const [seed, setSeed] = useState<number | string>('');
  const [greedy, setGreedy] = useState(false);
  const [maxNewTokens, setMaxNewTokens] = useState<number | string>(DEFAULT_MAX_NEW_TOKENS);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState('');
  const [streaming, setStreaming] = useState<Streaming | null>(null);
  const [meter, setMeter] = useState<{ meter: Meter; projections: number[] } | null>(null);
  const [lastSeed, setLastSeed] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const streamRef = useRef<Streaming | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const steerTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    // a block body: Chromium's scrollIntoView returns a promise, which React would take for a cleanup
    void bottom.current?.scrollIntoView({ block: 'end' });
  }, [turns, streaming?.text]);
  useEffect(() => () => streamRef.current?.abort.abort(), []); // leaving the screen stops the reply

  const personaName = (id: string) => personas?.find((p) => p.id === id)?.name ?? id;

  /** Asks for a reply to `history` (which ends with the user's turn). */
  function reply(history: Turn[]) {
    if (!model) return;
    const args: AppArgs<'chat'> = {
      model,
      messages: history.map((t) => ({ role: t.role, content: t.content })),
      ...(system.trim() ? { system } : {}),
      ...(mix.length ? { steering: steeringOf(mix, layers) } : {}),
      sampling: { ...(greedy ? { greedy: true } : {}), ...(typeof seed === 'number' ? { seed } : {}) },
      maxNewTokens: typeof maxNewTokens === 'number' ? maxNewTokens : DEFAULT_MAX_NEW_TOKENS,
      stream: newStreamId(),
    };
    const checked = chatArgs.safeParse(args);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      setError(`${issue.path.join('.') || 'chat'}: ${issue.message}`);
      return;
    }
    setError(null);
    setTurns(history);
    const s: Streaming = { stream: args.stream!, text: '', restyles: [], projections: [], abort: new AbortController() };
    streamRef.current = s;
    setStreaming({ ...s });
    setMeter(null);
    const update = () => streamRef.current === s && setStreaming({ ...s });
    api
      .chat(args, {
        signal: s.abort.signal,
        on: {
          token: (t) => {
            s.text += t.text;
            if (t.projection !== undefined) {
              s.projections = [...s.projections, t.projection];
              setMeter((m) => m && { ...m, projections: s.projections });
            }
            update();
          },
          meter: (m) => setMeter({ meter: m, projections: s.projections }),
          restyle: () => {
            s.restyles = [...s.restyles, s.text.length];
            update();
          },
        },
      })
      .then(
        (r) => {
          setLastSeed(r.seed);
          setTurns([
            ...history,
            { role: 'assistant', content: r.text, restyles: s.restyles, note: r.finish === 'cancelled' ? 'stopped' : undefined },
          ]);
        },
        (e: unknown) => {
          setError(errorText(e));
          if (s.text) setTurns([...history, { role: 'assistant', content: s.text, restyles: s.restyles, note: 'interrupted' }]);
        },
      )
      .finally(() => {
        if (streamRef.current === s) streamRef.current = null;
        setStreaming((cur) => (cur?.stream === s.stream ? null : cur));
      });
  }

  function send() {
    const text = draft.trim();
    if (!text || streaming) return;
    setDraft('');
    reply([...turns, { role: 'user', content: text }]);
  }

  function regenerate() {
    const lastUser = turns.map((t) => t.role).lastIndexOf('user');
    if (lastUser < 0 || streaming) return;
    reply(turns.slice(0, lastUser + 1));
  }

  /** A slider released or a persona added/removed: a running reply continues under the new steering. */
  function commitMix(next: PersonaAlpha[]) {
    // Debounced: a run of arrow-key steps is one change (each change costs a prefill of the reply so far).
    if (steerTimer.current !== null) clearTimeout(steerTimer.current);
    steerTimer.current = setTimeout(() => {
      steerTimer.current = null;
      const s = streamRef.current;
      if (!s || next.length === 0) return;
      api['chat.steer']({ stream: s.stream, steering: steeringOf(next, layers) }).catch((e: unknown) => setError(errorText(e)));
    }, STEER_DEBOUNCE_MS);
  }

  const busy = streaming !== null;
  return (
    <Stack>
      <Title order={2}>Playground</Title>
      {(modelsError ?? personasError) && <Alert color="red">{modelsError ?? personasError}</Alert>}
      <EmptyState models={models} personas={personas} />
      {models && models.length > 0 && (
        <Grid>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <Stack gap="sm" component="section" aria-label="Steering">
              <ModelSelect
                models={models}
                model={model}
                onChange={(m) => {
                  setModel(m);
                  setMix([]); // personas belong to a model
                }}
                disabled={busy}
              />
              {personas && <PersonaMix personas={personas} value={mix} onChange={setMix} onCommit={commitMix} />}
              <TextInput
                label="Layers"
                description="all, b, a-b or a list; empty: the sweep's recommendation, else the default layer"
                value={layers}
                onChange={(e) => setLayers(e.currentTarget.value)}
              />
              <Textarea
                label="System prompt"
                autosize
                minRows={1}
                maxRows={4}
                value={system}
                onChange={(e) => setSystem(e.currentTarget.value)}
              />
              <Group grow>
                <NumberInput
                  label="Seed"
                  description={lastSeed === null ? 'empty: random' : `last reply: ${lastSeed}`}
                  min={0}
                  allowDecimal={false}
                  value={seed}
                  onChange={setSeed}
                />
                <NumberInput label="Max new tokens" min={1} allowDecimal={false} value={maxNewTokens} onChange={setMaxNewTokens} />
              </Group>
              <Switch label="Greedy decoding" checked={greedy} onChange={(e) => setGreedy(e.currentTarget.checked)} />
              {meter && <TraitMeter meter={meter.meter} projections={meter.projections} personaName={personaName(meter.meter.persona)} />}
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <Stack gap="sm">
              <ScrollArea.Autosize mah="60vh">
                <Stack gap="xs" role="log" aria-label="Conversation" aria-live="polite">
                  {turns.length === 0 && !streaming && <Text c="dimmed">Pick personas and their α, then send a message.</Text>}
                  {turns.map((t, i) => (
                    <Paper key={i} p="sm" withBorder bg={t.role === 'user' ? 'var(--mantine-color-default-hover)' : undefined}>
                      <Text size="xs" c="dimmed">
                        {t.role === 'user' ? 'You' : 'Model'}
                        {t.note ? ` (${t.note})` : ''}
                      </Text>
                      {t.role === 'assistant' ? (
                        <ReplyText text={t.content} restyles={t.restyles ?? []} />
                      ) : (
                        <Text style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{t.content}</Text>
                      )}
                    </Paper>
                  ))}
                  {streaming && (
                    <Paper p="sm" withBorder aria-busy="true">
                      <Text size="xs" c="dimmed">
                        Model (writing…)
                      </Text>
                      <ReplyText text={streaming.text || '…'} restyles={streaming.restyles} />
                    </Paper>
                  )}
                  <div ref={bottom} />
                </Stack>
              </ScrollArea.Autosize>
              {error && (
                <Alert color="red" title="Error" withCloseButton onClose={() => setError(null)}>
                  {error}
                </Alert>
              )}
              <Textarea
                label="Message"
                placeholder="Write a message; Enter sends, Shift+Enter starts a new line"
                autosize
                minRows={2}
                value={draft}
                onChange={(e) => setDraft(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && !e.shiftKey) {
                    e.preventDefault();
                    send();
                  }
                }}
              />
              <Group>
                <Button onClick={send} disabled={busy || !draft.trim() || !model}>
                  Send
                </Button>
                <Button variant="default" onClick={() => streaming?.abort.abort()} disabled={!busy}>
                  Stop
                </Button>
                <Button variant="default" onClick={regenerate} disabled={busy || !turns.some((t) => t.role === 'user')}>
                  Regenerate
                </Button>
                <Button
                  variant="subtle"
                  onClick={() => {
                    setTurns([]);
                    setMeter(null);
                  }}
                  disabled={busy || turns.length === 0}
                >
                  Reset conversation
                </Button>
              </Group>
            </Stack>
          </Grid.Col>
        </Grid>
      )}
    </Stack>
  );
}
