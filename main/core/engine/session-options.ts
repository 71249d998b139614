// Session options as the host sends them: plain data, so hosts can validate a --provider flag
// without loading onnxruntime's native binding (providers.ts does that, in the worker).
import { z } from 'zod';

export const PROVIDER_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

export const sessionOptionsSchema = z.object({
  provider: z.enum(PROVIDER_CHOICES).default('auto'),
  /** Intra-op threads; 0 lets onnxruntime pick (all physical cores). */
  threads: z.number().int().min(0).max(256).default(0),
  deviceId: z.number().int().min(0).default(0),
  /**
   * Whether onnxruntime's intra-op threads spin-wait for work after each parallel section
   * (`session.intra_op.allow_spinning`). Spinning saves a wake-up per node when the process has the
   * cores to itself; with a second session resident (a judge beside the model) each pool's spinning
   * takes the cores from the other. Default: on; the engine host turns it off when it holds more
   * than one model (engine.ts).
   */
  spinning: z.boolean().default(true),
});
export type SessionOptions = z.input<typeof sessionOptionsSchema>;
