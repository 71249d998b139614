// GGUF reading and writing (versions 2 and 3, little-endian), enough for control vectors and for
// inspecting any GGUF's metadata. Layout: magic "GGUF", u32 version, u64 tensor count, u64 kv count,
// the key/value pairs, the tensor infos, padding to `general.alignment` (32 by default), the data.
import { ByteReader, ByteWriter, f32Bytes } from './bytes.ts';
import { FormatError } from './errors.ts';
import { bf16ToF32, f16ToF32 } from '../../../native-models/checkpoint/dtype.ts';

export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufType = (typeof GgufType)[keyof typeof GgufType];
export const GGUF_TYPE_NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'];

/** ggml tensor types we can convert to float32. */
export const GgmlType = { F32: 0, F16: 1, BF16: 30 } as const;
const GGML_WIDTH: Record<number, number> = { 0: 4, 1: 2, 30: 2 };

export type GgufValue = number | bigint | boolean | string | GgufValue[];
export interface GgufKV {
  key: string;
  type: GgufType;
  value: GgufValue;
  itemType?: GgufType;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: shape[0] is the fastest-varying dimension. */
  shape: number[];
  type: number;
  /** Absolute offset of the tensor's data in the file. */
  dataOffset: number;
  /** Byte size when the type is one we can convert; null otherwise. */
  byteSize: number | null;
}

export interface GgufFile {
  file: string;
  version: number;
  kv: Map<string, GgufKV>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataStart: number;
  bytes: Uint8Array;
}

const MAX_ARRAY_DEPTH = 4;
/**
 * Array items across one file's metadata. Each becomes a JS value (8+ bytes for a one-byte u8), so
 * an array as long as the file allows would take several times the file in memory; control vectors
 * carry no arrays, and a model's largest (the vocabulary) is far below this.
 */
const MAX_ARRAY_ITEMS = 1 << 20;
/** Metadata entries and tensors per file: real GGUFs have tens of entries and at most a few thousand tensors. */
const MAX_ENTRIES = 1 << 16;
const MIN_ITEM: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8 };

function readString(r: ByteReader, what: string): string {
  const at = r.pos;
  const len = r.u64(`${what} length`);
  if (len > r.remaining) r.fail(`${what} length ${len} runs past the end of the file`, at);
  return r.utf8(len, what);
}

function readValue(
  r: ByteReader,
  type: number,
  what: string,
  depth: number,
  budget: { items: number },
): { value: GgufValue; itemType?: GgufType } {
  switch (type) {
    case GgufType.UINT8:
      return { value: r.u8(what) };
    case GgufType.INT8: {
      const v = r.u8(what);
      return { value: v > 127 ? v - 256 : v };
    }
    case GgufType.UINT16:
      return { value: r.u16(what) };
    case GgufType.INT16: {
      const v = r.u16(what);
      return { value: v > 32767 ? v - 65536 : v };
    }
    case GgufType.UINT32:
      return { value: r.u32(what) };
    case GgufType.INT32:
      return { value: r.i32(what) };
    case GgufType.FLOAT32:
      return { value: r.f32(what) };
    case GgufType.BOOL: {
      const at = r.pos;
      const v = r.u8(what);
      if (v > 1) r.fail(`${what}: bool byte is ${v}`, at);
      return { value: v === 1 };
    }
    case GgufType.STRING:
      return { value: readString(r, what) };
    case GgufType.UINT64:
      return { value: r.u64Big(what) };
    case GgufType.INT64:
      return { value: r.i64Big(what) };
    case GgufType.FLOAT64:
      return { value: r.f64(what) };
    case GgufType.ARRAY: {
      const at = r.pos;
      if (depth >= MAX_ARRAY_DEPTH) r.fail(`${what}: arrays nested deeper than ${MAX_ARRAY_DEPTH}`, at);
      const itemType = r.u32(`${what} item type`);
      if (!(itemType in MIN_ITEM)) r.fail(`${what}: unknown array item type ${itemType}`, at);
      const count = r.u64(`${what} count`);
      // Check the count against the bytes left before building anything of that size.
      if (count * MIN_ITEM[itemType]! > r.remaining) r.fail(`${what}: ${count} items cannot fit in the ${r.remaining} bytes left`, at);
      budget.items -= count;
      if (budget.items < 0) r.fail(`${what}: ${count} items take the metadata past ${MAX_ARRAY_ITEMS} array items`, at);
      const items: GgufValue[] = [];
      for (let i = 0; i < count; i++) items.push(readValue(r, itemType, what, depth + 1, budget).value);
      return { value: items, itemType: itemType as GgufType };
    }
    default:
      return r.fail(`${what}: unknown value type ${type}`, r.pos - 4);
  }
}

/** Parses a whole GGUF held in memory. Throws FormatError (file + offset) on anything malformed. */
export function parseGguf(bytes: Uint8Array, file: string): GgufFile {
  const r = new ByteReader(bytes, file);
  if (bytes.length < 4 || bytes[0] !== 0x47 || bytes[1] !== 0x47 || bytes[2] !== 0x55 || bytes[3] !== 0x46) {
    r.fail('not a GGUF file (missing "GGUF" magic)', 0);
  }
  r.pos = 4;
  const version = r.u32('version');
  if (version === 0x03000000 || version === 0x02000000) r.fail('big-endian GGUF files are not supported', 4);
  if (version === 1) r.fail('GGUF version 1 (2023 and earlier) is not supported; re-save with a current llama.cpp', 4);
  if (version !== 2 && version !== 3) r.fail(`unknown GGUF version ${version}`, 4);
  const countsAt = r.pos;
  const tensorCount = r.u64('tensor count');
  const kvCount = r.u64('metadata count');
  if (kvCount * 13 > r.remaining) r.fail(`${kvCount} metadata entries cannot fit in the file`, countsAt + 8);
  if (tensorCount * 24 > r.remaining) r.fail(`${tensorCount} tensors cannot fit in the file`, countsAt);
  if (kvCount > MAX_ENTRIES) r.fail(`${kvCount} metadata entries are more than the ${MAX_ENTRIES} this reader accepts`, countsAt + 8);
  if (tensorCount > MAX_ENTRIES) r.fail(`${tensorCount} tensors are more than the ${MAX_ENTRIES} this reader accepts`, countsAt);
  const kv = new Map<string, GgufKV>();
  const budget = { items: MAX_ARRAY_ITEMS };
  for (let i = 0; i < kvCount; i++) {
    const at = r.pos;
    const key = readString(r, `metadata key ${i}`);
    if (kv.has(key)) r.fail(`metadata key ${JSON.stringify(key)} appears twice`, at);
    const type = r.u32(`type of ${key}`);
    const { value, itemType } = readValue(r, type, key, 0, budget);
    kv.set(key, { key, type: type as GgufType, value, ...(itemType !== undefined ? { itemType } : {}) });
  }
  let alignment = 32;
  const al = kv.get('general.alignment');
  if (al) {
    const v = al.value;
    if (al.type !== GgufType.UINT32 || typeof v !== 'number' || v === 0 || (v & (v - 1)) !== 0 || v > 65536) {
      r.fail(`general.alignment must be a u32 power of two, got ${String(v)}`, countsAt);
    }
    alignment = v as number;
  }
  const infos: { name: string; shape: number[]; type: number; rel: number; at: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = r.pos;
    const name = readString(r, `tensor ${i} name`);
    if (names.has(name)) r.fail(`tensor ${JSON.stringify(name)} appears twice`, at);
    names.add(name);
    const nDims = r.u32(`${name} dimension count`);
    if (nDims < 1 || nDims > 4) r.fail(`tensor ${name} has ${nDims} dimensions (ggml allows 1 to 4)`, r.pos - 4);
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) shape.push(r.u64(`${name} dimension ${d}`));
    const type = r.u32(`${name} type`);
    const rel = r.u64(`${name} data offset`);
    if (rel % alignment !== 0) r.fail(`tensor ${name} data offset ${rel} is not aligned to ${alignment}`, r.pos - 8);
    infos.push({ name, shape, type, rel, at });
  }
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  if (tensorCount > 0 && dataStart > bytes.length) r.fail(`tensor data would start at ${dataStart}, past the end of the file`, r.pos);
  const tensors: GgufTensorInfo[] = infos.map(({ name, shape, type, rel, at }) => {
    const width = GGML_WIDTH[type];
    let count = 1;
    for (const d of shape) count *= d;
    const byteSize = width === undefined ? null : count * width;
    const dataOffset = dataStart + rel;
    const end = dataOffset + (byteSize ?? 0);
    if (!Number.isSafeInteger(end) || end > bytes.length) {
      r.fail(`tensor ${name} (${byteSize ?? '?'} bytes at ${dataOffset}) runs past the end of the file (${bytes.length} bytes)`, at);
    }
    return { name, shape, type, dataOffset, byteSize };
  });
  return { file, version, kv, tensors, alignment, dataStart, bytes };
}

/** A tensor's values as float32 (F32 copied exactly; F16/BF16 widened). */
export function ggufTensorF32(g: GgufFile, t: GgufTensorInfo): Float32Array {
  if (t.byteSize === null)
    throw new FormatError(g.file, t.dataOffset, `tensor ${t.name} has ggml type ${t.type}; only F32, F16 and BF16 can be read`);
  const raw = g.bytes.subarray(t.dataOffset, t.dataOffset + t.byteSize);
  if (t.type === GgmlType.F32) {
    const out = new Float32Array(raw.length / 4);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const half = new Uint16Array(raw.length / 2);
  new Uint8Array(half.buffer).set(raw);
  return t.type === GgmlType.F16 ? f16ToF32(half) : bf16ToF32(half);
}

export interface GgufTensorToWrite {
  name: string;
  data: Float32Array;
  shape?: number[];
}

function writeString(w: ByteWriter, s: string): void {
  const b = new TextEncoder().encode(s);
  w.u64(b.length).bytes(b);
}

function writeValue(w: ByteWriter, type: GgufType, value: GgufValue, itemType?: GgufType): void {
  const num = (v: GgufValue): number => {
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new Error(`writeGguf: expected a number, got ${typeof v}`);
    return Number(v);
  };
  switch (type) {
    case GgufType.UINT8:
    case GgufType.INT8:
      w.u8(num(value) & 0xff);
      break;
    case GgufType.UINT16:
    case GgufType.INT16:
      w.u16(num(value) & 0xffff);
      break;
    case GgufType.UINT32:
      w.u32(num(value));
      break;
    case GgufType.INT32:
      w.i32(num(value));
      break;
    case GgufType.FLOAT32:
      w.f32(num(value));
      break;
    case GgufType.BOOL:
      w.u8(value ? 1 : 0);
      break;
    case GgufType.STRING:
      writeString(w, String(value));
      break;
    case GgufType.UINT64:
      w.u64(BigInt(value as number | bigint));
      break;
    case GgufType.INT64:
      w.i64(BigInt(value as number | bigint));
      break;
    case GgufType.FLOAT64:
      w.f64(num(value));
      break;
    case GgufType.ARRAY: {
      if (!Array.isArray(value) || itemType === undefined) throw new Error('writeGguf: array value needs an itemType');
      w.u32(itemType).u64(value.length);
      for (const v of value) writeValue(w, itemType, v);
      break;
    }
  }
}

/** A tensor's entry in a GGUF header: ggml-order shape, ggml type and data size in bytes. */
export interface GgufTensorHeader {
  name: string;
  shape: number[];
  type: number;
  bytes: number;
}

/**
 * A GGUF v3 header: metadata, tensor infos with their data offsets, and padding to the data
 * section. Tensor data then follows in the same order, each padded to `alignment` — so large
 * files can be streamed after it.
 */
export function encodeGgufHeader(kvs: GgufKV[], tensors: GgufTensorHeader[], alignment = 32): Uint8Array {
  const w = new ByteWriter();
  w.bytes(new Uint8Array([0x47, 0x47, 0x55, 0x46]))
    .u32(3)
    .u64(tensors.length)
    .u64(kvs.length);
  for (const kv of kvs) {
    writeString(w, kv.key);
    w.u32(kv.type);
    writeValue(w, kv.type, kv.value, kv.itemType);
  }
  let rel = 0;
  for (const t of tensors) {
    writeString(w, t.name);
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(d);
    w.u32(t.type).u64(rel);
    rel += Math.ceil(t.bytes / alignment) * alignment;
  }
  return w.pad(alignment).finish();
}

/** Writes a GGUF v3 with F32 tensors, each 1-D unless `shape` (ggml order) says otherwise. */
export function writeGguf(kvs: GgufKV[], tensors: GgufTensorToWrite[], alignment = 32): Uint8Array {
  const headers = tensors.map((t) => {
    const shape = t.shape ?? [t.data.length];
    if (shape.reduce((a, b) => a * b, 1) !== t.data.length)
      throw new Error(`writeGguf: ${t.name} shape ${JSON.stringify(shape)} does not hold ${t.data.length} values`);
    return { name: t.name, shape, type: GgmlType.F32, bytes: t.data.byteLength };
  });
  const w = new ByteWriter().bytes(encodeGgufHeader(kvs, headers, alignment));
  for (const t of tensors) w.bytes(f32Bytes(t.data)).pad(alignment);
  return w.finish();
}
