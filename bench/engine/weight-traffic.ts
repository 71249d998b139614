// Bytes of weights one decode step of a compiled model reads: every initializer an op other than
// Gather consumes (linear weights, their scales, norms, the lm_head — a tied fp32 lm_head is the
// embedding table itself), plus one row of each table only a Gather reads (the token embedding).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel } from '../../native-models/graph/onnx-proto.ts';
import { readManifest } from '../../native-models/compile.ts';

export interface WeightTraffic {
  /** Bytes of every initializer (≈ model.onnx.data without alignment padding). */
  totalBytes: number;
  /** Bytes a one-token decode step reads. */
  perTokenBytes: number;
  /** Initializers read only through Gather (only one row each per token). */
  gatherOnly: string[];
}

const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 16: 2 };

export function weightTraffic(dir: string): WeightTraffic {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`${dir}: not a compiled model (no manifest.json)`);
  const model = decodeModel(readFileSync(join(dir, manifest.files.model)));
  const graph = model.graph ?? {};
  const sizes = new Map<string, { bytes: number; rows: number }>();
  for (const t of graph.initializer ?? []) {
    const length = (t.external_data ?? []).find((e) => e.key === 'length');
    const dims = t.dims ?? [];
    const bytes = length
      ? Number(length.value)
      : t.raw_data
        ? t.raw_data.byteLength
        : dims.reduce((a, b) => a * b, 1) * (ELEM_BYTES[t.data_type ?? 0] ?? 4);
    sizes.set(t.name ?? '', { bytes, rows: dims[0] ?? 1 });
  }
  const consumers = new Map<string, Set<string>>();
  for (const n of graph.node ?? []) {
    for (const input of n.input ?? []) {
      if (!sizes.has(input)) continue;
      let s = consumers.get(input);
      if (!s) consumers.set(input, (s = new Set()));
      s.add(n.op_type ?? '');
    }
  }
  let totalBytes = 0;
  let perTokenBytes = 0;
  const gatherOnly: string[] = [];
  for (const [name, { bytes, rows }] of sizes) {
    totalBytes += bytes;
    const ops = consumers.get(name);
    if (!ops) continue;
    if (ops.size === 1 && ops.has('Gather')) {
      perTokenBytes += bytes / rows;
      if (bytes > 1 << 20) gatherOnly.push(name);
    } else {
      perTokenBytes += bytes;
    }
  }
  return { totalBytes, perTokenBytes, gatherOnly };
}
