// Execution-provider choice with fallback. onnxruntime throws at InferenceSession.create when a
// provider fails to initialise even with 'cpu' listed after it, so each candidate is tried alone.
import * as ort from 'onnxruntime-node';
import { sessionOptionsSchema, type SessionOptions } from './session-options.ts';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ProviderAttempt {
  provider: string;
  ok: boolean;
  error?: string;
}
export interface OpenedSession {
  session: ort.InferenceSession;
  provider: string;
  attempts: ProviderAttempt[];
  reason: string;
}

/**
 * What 'auto' tries, best first, among the providers this build of onnxruntime-node has. CoreML is
 * left out: it has none of the contrib ops our graphs use, so they fall back to the CPU in many
 * small partitions, slower than the CPU provider alone; it stays available when asked for.
 */
export function availableProviders(backends: string[] = ort.listSupportedBackends().map((b) => b.name)): string[] {
  const have = new Set(backends);
  return ['cuda', 'dml', 'cpu'].filter((p) => have.has(p) && (p !== 'cuda' || cudaLibrariesInstalled()));
}

/**
 * The CUDA provider ships as separate libraries fetched at install time (skipped by default; see
 * README). Without them onnxruntime lists 'cuda' yet fails to create it, so look for the file.
 */
export function cudaLibrariesInstalled(): boolean {
  const require = createRequire(import.meta.url);
  try {
    const binding = dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = join(binding, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

function providerConfig(name: string, deviceId: number): ort.InferenceSession.ExecutionProviderConfig {
  if (name === 'cuda') return { name: 'cuda', deviceId };
  if (name === 'dml') return { name: 'dml', deviceId };
  return name as ort.InferenceSession.ExecutionProviderConfig;
}

export async function openSession(
  modelPath: string,
  opts: SessionOptions = {},
  create: (path: string, o: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession> = (p, o) =>
    ort.InferenceSession.create(p, o),
): Promise<OpenedSession> {
  const { provider, threads, deviceId, spinning } = sessionOptionsSchema.parse(opts);
  const candidates = provider === 'auto' ? availableProviders() : provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
  const attempts: ProviderAttempt[] = [];
  for (const name of candidates) {
    try {
      const session = await create(modelPath, {
        executionProviders: [providerConfig(name, deviceId)],
        ...(threads ? { intraOpNumThreads: threads } : {}),
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
      });
      attempts.push({ provider: name, ok: true });
      const failed = attempts.filter((a) => !a.ok);
      const reason = failed.length
        ? `${name} (fallback: ${failed.map((a) => `${a.provider} failed: ${a.error}`).join('; ')})`
        : provider === 'auto'
          ? `${name} (best available)`
          : `${name} (requested)`;
      return { session, provider: name, attempts, reason };
    } catch (e) {
      attempts.push({ provider: name, ok: false, error: String((e as Error).message ?? e).split('\n')[0] });
    }
  }
  throw new Error(
    `${modelPath}: no execution provider could load the model (${attempts.map((a) => `${a.provider}: ${a.error}`).join('; ')})`,
  );
}
