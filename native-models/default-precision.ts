// The precision a compile gets when none is asked for — one rule, used by the compiler and by the
// catalog's memory estimates, so what the Welcome screen promises is what the compile produces.
//
// CPU: int4 (the 'signed' Q4_0 rule at block 32) from CPU_INT4_MIN_PARAMETERS up, fp32 below.
// Measured on the 2-core Zen 5 machine (bench/README.md, "CPU compile default"): the Qwen3-0.6B
// shape decodes through generate() at 41.5 tok/s at int4 against ~11 at fp32, in 679 MiB of weights
// against 2.4 GB, at a mean next-token KL of 0.019 nats against fp32 — llama.cpp's Q4_0 rounding,
// so no worse than its Q4_0 on the same weights. Small models are fast at fp32 already and are the
// ones int4 hurts most (KL 0.11 on the 2.2M-parameter demo model, 0.08 on stories260K, 14% of greedy
// tokens changed), so they keep full precision.
// GPUs: fp16 on CUDA and DirectML; CoreML stays fp32 (its fp16 path is the provider's own choice).

/** Parameters from which a CPU compile defaults to int4. */
export const CPU_INT4_MIN_PARAMETERS = 100e6;

export type DefaultPrecision = 'fp32' | 'fp16' | 'int4';

export function defaultPrecision(provider: string, parameters: number): DefaultPrecision {
  if (provider === 'cuda' || provider === 'dml') return 'fp16';
  if (provider === 'cpu' && parameters >= CPU_INT4_MIN_PARAMETERS) return 'int4';
  return 'fp32';
}
