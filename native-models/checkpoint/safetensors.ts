// safetensors: an 8-byte little-endian header length, a JSON header, then raw tensor bytes.
// Reading is lazy: the header is parsed up front and each tensor is read with a ranged read when
// asked for, so compiling a large checkpoint holds one tensor at a time.
import { openSync, readSync, closeSync, fstatSync, writeFileSync, renameSync, constants } from 'node:fs';
import { z } from 'zod';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './dtype.ts';
import { StudioError } from '../errors.ts';
import { jsonDepthExceeded, MAX_JSON_DEPTH } from './json-limits.ts';

export type FloatDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const entrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
  file: string;
}

/** Limits a header to something sane before we allocate for it (real headers are < 10 MB). */
const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  readonly metadata: Record<string, string> = {};
  private fd: number | null;
  private dataStart: number;

  constructor(readonly path: string) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    this.fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const st = fstatSync(this.fd);
      if (!st.isFile())
        throw new StudioError('format', `${path}: is not a regular file (${st.isDirectory() ? 'a folder' : 'a device, FIFO or socket'})`);
      const size = st.size;
      if (size < 8) throw new StudioError('format', `${path}: truncated safetensors file (${size} bytes, no header length)`);
      const lenBuf = Buffer.alloc(8);
      readSync(this.fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > size - 8) {
        throw new StudioError('format', `${path}: header length ${headerLen} runs past the end of the file (${size} bytes)`);
      }
      if (headerLen > MAX_HEADER) throw new StudioError('format', `${path}: header length ${headerLen} is implausibly large`);
      const header = Buffer.alloc(headerLen);
      readSync(this.fd, header, 0, headerLen, 8);
      const text = header.toString('utf8');
      const deep = jsonDepthExceeded(text);
      if (deep >= 0)
        throw new StudioError('format', `${path}: header nests deeper than ${MAX_JSON_DEPTH} levels (at header character ${deep})`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new StudioError('format', `${path}: header is not valid JSON (${(e as Error).message})`);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new StudioError('format', `${path}: header is not a JSON object`);
      }
      this.dataStart = 8 + headerLen;
      const dataLen = size - this.dataStart;
      for (const [name, raw] of Object.entries(json)) {
        if (name === '__metadata__') {
          if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
            throw new StudioError('format', `${path}: __metadata__ is not an object`);
          for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') this.metadata[k] = v;
          continue;
        }
        const parsed = entrySchema.safeParse(raw);
        if (!parsed.success) throw new StudioError('format', `${path}: tensor ${JSON.stringify(name)} has a malformed header entry`);
        const {
          dtype,
          shape,
          data_offsets: [begin, end],
        } = parsed.data;
        const width = DTYPE_BYTES[dtype];
        if (!width) throw new StudioError('format', `${path}: tensor ${name} has unknown dtype ${dtype}`);
        const count = shape.reduce((a, b) => a * b, 1);
        if (end < begin || end - begin !== count * width) {
          throw new StudioError(
            'format',
            `${path}: tensor ${name} spans ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${count * width}`,
          );
        }
        if (end > dataLen) {
          throw new StudioError(
            'format',
            `${path}: tensor ${name} ends at byte ${this.dataStart + end}, past the end of the file (${size} bytes; truncated?)`,
          );
        }
        this.tensors.set(name, { name, dtype, shape, begin, end, file: path });
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Raw bytes of one tensor, read on demand. */
  readBytes(name: string): Uint8Array {
    const info = this.tensors.get(name);
    if (!info) throw new StudioError('format', `${this.path}: no tensor named ${name}`);
    if (this.fd === null) throw new Error(`internal: ${this.path} is closed`);
    const buf = new Uint8Array(info.end - info.begin);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, this.dataStart + info.begin + got);
      if (n === 0) throw new StudioError('format', `${this.path}: unexpected end of file reading ${name}`);
      got += n;
    }
    return buf;
  }

  /** One tensor as float32, converted from F32/F16/BF16. */
  readFloat32(name: string): Float32Array {
    const info = this.tensors.get(name)!;
    const bytes = this.readBytes(name);
    switch (info?.dtype) {
      case 'F32':
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      case 'BF16':
        return bf16ToF32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
      case 'F16':
        return f16ToF32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
      default:
        throw new StudioError('format', `${this.path}: tensor ${name} has dtype ${info?.dtype}, expected F32, F16 or BF16`);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype?: FloatDtype;
}

/** Writes a safetensors file (atomically: a temp file renamed into place). */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`writeSafetensors: ${t.name} has ${t.data.length} values, shape ${JSON.stringify(t.shape)} needs ${count}`);
    const dtype = t.dtype ?? 'F32';
    const arr = dtype === 'F32' ? t.data : dtype === 'BF16' ? f32ToBf16(t.data) : f32ToF16(t.data);
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // keep data 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([head, Buffer.from(json), ...blobs]));
  renameSync(tmp, path);
}
