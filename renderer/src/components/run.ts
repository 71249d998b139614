// Long work from the UI (compile, train, drafting prompts): one running call at a time per hook,
// its progress events as state, an ETA (the server's when it sends one, else from the rate so far),
// and Cancel through an AbortSignal — the rpc client sends the cancel, the server stops the work.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Progress {
  stage: string;
  done: number;
  total: number;
  etaMs?: number | null;
}

export interface RunState {
  running: boolean;
  progress: Progress | null;
  /** Milliseconds left, or null while unknown. */
  etaMs: number | null;
  error: string | null;
  cancelled: boolean;
}

const IDLE: RunState = { running: false, progress: null, etaMs: null, error: null, cancelled: false };

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A cancelled call rejects with the server's 'cancelled' error (or the client's abort). */
const isCancel = (e: unknown, signal: AbortSignal) => signal.aborted || (e instanceof Error && /cancel/i.test(e.name + e.message));

export interface RunHandle {
  signal: AbortSignal;
  onProgress(p: Progress): void;
}

export function useRun() {
  const [state, setState] = useState<RunState>(IDLE);
  const ctrl = useRef<AbortController | null>(null);
  // Per stage: when it started, for the rate-based ETA.
  const stageStart = useRef<{ stage: string; at: number; done: number } | null>(null);
  useEffect(() => () => ctrl.current?.abort(), []); // leaving the screen cancels what it started

  const start = useCallback(async <T>(work: (h: RunHandle) => Promise<T>): Promise<T | null> => {
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    stageStart.current = null;
    setState({ ...IDLE, running: true });
    const onProgress = (p: Progress) => {
      const now = performance.now();
      const s = stageStart.current;
      if (!s || s.stage !== p.stage || p.done < s.done) stageStart.current = { stage: p.stage, at: now, done: p.done };
      const base = stageStart.current!;
      const rateEta =
        p.done > base.done && p.total > p.done
          ? ((now - base.at) / (p.done - base.done)) * (p.total - p.done)
          : p.done >= p.total
            ? 0
            : null;
      setState((st) => ({ ...st, progress: p, etaMs: p.etaMs ?? rateEta }));
    };
    try {
      const r = await work({ signal: c.signal, onProgress });
      if (ctrl.current === c) setState(IDLE);
      return r;
    } catch (e) {
      if (ctrl.current === c) setState({ ...IDLE, cancelled: isCancel(e, c.signal), error: isCancel(e, c.signal) ? null : errorText(e) });
      return null;
    } finally {
      if (ctrl.current === c) ctrl.current = null;
    }
  }, []);
  const cancel = useCallback(() => ctrl.current?.abort(), []);
  const reset = useCallback(() => setState(IDLE), []);
  return { state, start, cancel, reset };
}

/** "about 1 min 20 s left", for an ETA in milliseconds. */
export function formatEta(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'estimating time left…';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `about ${s} s left`;
  const m = Math.floor(s / 60);
  return m < 60 ? `about ${m} min ${s % 60} s left` : `about ${Math.floor(m / 60)} h ${m % 60} min left`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
