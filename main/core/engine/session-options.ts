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
});
export type SessionOptions = z.input<typeof sessionOptionsSchema>;
