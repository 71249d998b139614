// Judges: a trait score 0–100 and a coherence score 0–100 for a (question, response) pair, as the
// probability-weighted mean over the judge's next-token distribution of the score tokens
// (persona_vectors' method), from an OpenAI-compatible endpoint (llama.cpp's llama-server, Ollama,
// LM Studio, OpenRouter…) or from the loaded model itself. Endpoints that give no logprobs are read
// by parsing the number they write. Results are cached by (judge, prompt, response) hash, so a
// judge run that is killed resumes without asking again.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { StudioError } from '../errors.ts';

/** Below this total probability on score tokens the distribution says nothing: no score. */
export const MIN_SCORE_MASS = 0.25;

/**
 * The expected score under the judge's first-token distribution, counting only tokens that are
 * whole numbers 0–100 (" 85" and "85" alike), renormalised over them; null when they hold less
 * than MIN_SCORE_MASS of the probability.
 */
export function scoreFromLogprobs(top: readonly { token: string; logprob: number }[]): { score: number | null; mass: number } {
  let mass = 0;
  let sum = 0;
  for (const { token, logprob } of top) {
    const t = token.trim();
    if (!/^\d{1,3}$/.test(t)) continue;
    const v = Number(t);
    if (v > 100 || !Number.isFinite(logprob)) continue;
    const p = Math.exp(logprob);
    mass += p;
    sum += p * v;
  }
  return { score: mass >= MIN_SCORE_MASS ? sum / mass : null, mass };
}

/** The first whole number 0–100 a judge wrote, for endpoints without logprobs. */
export function scoreFromText(text: string): number | null {
  const m = /\b(\d{1,3})(?:\.\d+)?\b/.exec(text);
  if (!m) return null;
  const v = Number(m[1]);
  return v <= 100 ? v : null;
}

export type Aspect = 'trait' | 'coherence';

/** Our judge prompts (written for this studio): the answer is one number, nothing else. */
export function judgePrompt(aspect: Aspect, trait: string, question: string, response: string): string {
  const head =
    aspect === 'trait'
      ? `You are grading how strongly a reply shows this trait: ${trait}.\n0 means not at all, 100 means in every sentence.`
      : 'You are grading how coherent a reply is: fluent, grammatical, on topic, without repetition or gibberish.\n0 means incoherent, 100 means perfectly coherent, whatever its style.';
  return `${head}\n\nQuestion:\n${question}\n\nReply:\n${response}\n\nAnswer with one number from 0 to 100 and nothing else.`;
}

export interface JudgeResult {
  score: number | null;
  /** 'logprobs': weighted over score tokens; 'text': parsed from the reply; 'none': no usable answer. */
  method: 'logprobs' | 'text' | 'none';
  mass: number | null;
  cached: boolean;
}

export const endpointJudgeSchema = z.strictObject({
  /** Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080 (…/v1 is added when absent). */
  url: z.url(),
  model: z.string().min(1).default('default'),
  /** Seconds per request. */
  timeout: z.number().positive().max(600).default(60),
  /** Attempts on 429 and 5xx, waiting Retry-After (or 1, 2, 4… s) between them. */
  retries: z.int().min(0).max(10).default(3),
});
export type EndpointJudgeOptions = z.input<typeof endpointJudgeSchema>;

/** The API key comes from the environment (or the app's settings), never from a command-line flag. */
export const JUDGE_KEY_ENV = 'PERSONA_STUDIO_JUDGE_KEY';

const completionSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({ content: z.string().nullish() }).optional(),
        logprobs: z
          .looseObject({
            content: z
              .array(z.looseObject({ top_logprobs: z.array(z.object({ token: z.string(), logprob: z.number() })).optional() }))
              .nullish(),
          })
          .nullish(),
      }),
    )
    .min(1),
});

export type Fetch = typeof fetch;

/** One request to the endpoint, with the failures people hit named in one line each. */
async function complete(
  o: z.output<typeof endpointJudgeSchema>,
  prompt: string,
  key: string | undefined,
  fetchImpl: Fetch,
  signal?: AbortSignal,
): Promise<z.infer<typeof completionSchema>> {
  const base = o.url.replace(/\/+$/, '');
  const url = /\/v1$/.test(base) ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
  const body = JSON.stringify({
    model: o.model,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: 3,
    temperature: 0,
    logprobs: true,
    top_logprobs: 20,
  });
  for (let attempt = 0; ; attempt++) {
    const ctl = AbortSignal.timeout(o.timeout * 1000);
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
        signal: signal ? AbortSignal.any([signal, ctl]) : ctl,
      });
    } catch (e) {
      if (signal?.aborted) throw new StudioError('cancelled', 'judge: cancelled');
      if (ctl.aborted) throw new StudioError('resource', `judge ${url}: no answer within ${o.timeout} s (timeout)`);
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new StudioError('not-found', `judge ${url}: unreachable (${cause})`);
    }
    if (res.ok) {
      let json: unknown;
      try {
        json = await res.json();
      } catch {
        throw new StudioError('format', `judge ${url}: the answer is not JSON`);
      }
      const parsed = completionSchema.safeParse(json);
      if (!parsed.success)
        throw new StudioError('format', `judge ${url}: not a chat completion (${parsed.error.issues[0]?.message ?? 'invalid'})`);
      return parsed.data;
    }
    if (res.status === 401 || res.status === 403) {
      throw new StudioError(
        'usage',
        `judge ${url}: ${res.status} ${res.status === 401 ? 'unauthorised' : 'forbidden'}: set the API key in ${JUDGE_KEY_ENV} (or the app's settings)`,
      );
    }
    if ((res.status === 429 || res.status >= 500) && attempt < o.retries) {
      const after = Number(res.headers.get('retry-after'));
      await new Promise((r) => setTimeout(r, Number.isFinite(after) && after > 0 ? Math.min(after, 60) * 1000 : 2 ** attempt * 1000));
      continue;
    }
    if (res.status === 429) throw new StudioError('resource', `judge ${url}: rate limited (429) after ${attempt + 1} attempts`);
    throw new StudioError('internal', `judge ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  }
}

/** A judge on an OpenAI-compatible endpoint. */
export function endpointJudge(input: EndpointJudgeOptions, deps: { fetch?: Fetch; key?: string } = {}) {
  const o = endpointJudgeSchema.parse(input);
  const key = deps.key ?? process.env[JUDGE_KEY_ENV];
  const fetchImpl = deps.fetch ?? fetch;
  return {
    id: `endpoint:${o.url}#${o.model}`,
    async ask(prompt: string, signal?: AbortSignal): Promise<Omit<JudgeResult, 'cached'>> {
      const r = await complete(o, prompt, key, fetchImpl, signal);
      const choice = r.choices[0]!;
      const top = choice.logprobs?.content?.[0]?.top_logprobs;
      if (top && top.length) {
        const s = scoreFromLogprobs(top);
        if (s.score !== null) return { score: s.score, method: 'logprobs', mass: s.mass };
      }
      const t = scoreFromText(choice.message?.content ?? '');
      return { score: t, method: t === null ? 'none' : 'text', mass: null };
    },
  };
}

export interface Judge {
  id: string;
  ask(prompt: string, signal?: AbortSignal): Promise<Omit<JudgeResult, 'cached'>>;
}

/**
 * A judge whose answers are kept in a JSON Lines file by sha256(judge id, prompt): a repeated or
 * resumed run asks only what it has not asked. Appends are one line each, so a kill loses at most
 * the line being written (a cut last line is ignored on reading).
 */
export function cachedJudge(judge: Judge, cacheFile: string) {
  const cache = new Map<string, Omit<JudgeResult, 'cached'>>();
  if (fs.existsSync(cacheFile)) {
    for (const line of fs.readFileSync(cacheFile, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { k: string; r: Omit<JudgeResult, 'cached'> };
        cache.set(e.k, e.r);
      } catch {
        // a line cut by a kill
      }
    }
  }
  return {
    id: judge.id,
    async score(aspect: Aspect, trait: string, question: string, response: string, signal?: AbortSignal): Promise<JudgeResult> {
      const prompt = judgePrompt(aspect, trait, question, response);
      const k = createHash('sha256')
        .update(JSON.stringify([judge.id, prompt]))
        .digest('hex');
      const hit = cache.get(k);
      if (hit) return { ...hit, cached: true };
      const r = await judge.ask(prompt, signal);
      cache.set(k, r);
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      fs.appendFileSync(cacheFile, `${JSON.stringify({ k, r })}\n`);
      return { ...r, cached: false };
    },
  };
}

/** What a local judge needs: the engine's next-token distribution (log-softmax) and the tokenizer. */
export interface LocalJudgeDeps {
  distribution(args: { prompts: number[][] }): Promise<Float32Array[]>;
  encodeChat(prompt: string): number[];
  tokenText(id: number): string;
}

/**
 * The loaded model as its own judge: the top 20 of its next-token distribution after the judge
 * prompt. Small models judge poorly (the demo model cannot: it was never taught to grade); this is
 * for a capable local instruct model and for testing the mechanics.
 */
export function localJudge(id: string, deps: LocalJudgeDeps): Judge {
  return {
    id: `local:${id}`,
    async ask(prompt) {
      const [logp] = await deps.distribution({ prompts: [deps.encodeChat(prompt)] });
      const order = Array.from(logp!.keys())
        .sort((a, b) => logp![b]! - logp![a]!)
        .slice(0, 20);
      const s = scoreFromLogprobs(order.map((t) => ({ token: deps.tokenText(t), logprob: logp![t]! })));
      return { score: s.score, method: s.score === null ? 'none' : 'logprobs', mass: s.mass };
    },
  };
}
