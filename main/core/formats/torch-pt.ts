// torch.save's zip format: <archive>/data.pkl (the pickle), <archive>/data/<key> (raw storages,
// little-endian), <archive>/version, <archive>/byteorder. We read files holding tensors (a bare
// tensor, or lists/dicts of them) and write one float32 tensor the way torch.save does.
import { bf16ToF32, f16ToF32 } from '../../../native-models/checkpoint/dtype.ts';
import { f32Bytes } from './bytes.ts';
import { FormatError } from './errors.ts';
import { MAX_VECTOR_FILE } from './file-io.ts';
import { DTYPE_WIDTH, isTensorRef, pickleTensor, unpickle, type PyValue, type TensorRef } from './pickle.ts';
import { buildStoredZip, memorySource, readZipDirectory, readZipEntry, type ZipEntry } from './zip.ts';

export interface TorchTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface TorchFile {
  file: string;
  root: PyValue;
  /** The tensor's elements as float32 (float32 exactly; float16/bfloat16/float64 converted). */
  toFloat32(t: TensorRef): Float32Array;
}

const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Opens a torch zip file held in memory. Errors name the file and the byte offset. */
export function readTorchFile(bytes: Uint8Array, file: string): TorchFile {
  if (LEGACY_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new FormatError(file, 0, 'saved in the legacy torch.save format (PyTorch < 1.6); re-save it with a current torch');
  }
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b)
    throw new FormatError(file, 0, 'not a torch zip file (missing "PK" signature)');
  const src = memorySource(bytes, file);
  const entries = readZipDirectory(src);
  const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pkl) throw new FormatError(file, null, 'no <archive>/data.pkl record (not a torch.save file?)');
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) byName.set(e.name, e);
  let bigEndian = false;
  const bo = byName.get(`${prefix}byteorder`);
  if (bo) {
    const v = new TextDecoder().decode(readZipEntry(src, bo, 16)).trim();
    if (v !== 'little' && v !== 'big') throw new FormatError(file, bo.dataOffset, `byteorder record says ${JSON.stringify(v)}`);
    bigEndian = v === 'big';
  }
  if (pkl.method !== 0) throw new FormatError(file, pkl.headerOffset, 'data.pkl is compressed; torch writes it stored');
  const root = unpickle(readZipEntry(src, pkl, bytes.length), file, pkl.dataOffset);
  const storages = new Map<string, Uint8Array>();
  // What the file's storages may take once read: a deflated record can declare far more than the
  // file holds (1 MiB inflating to 1 GiB), so declared sizes are checked before anything is read.
  let budget = MAX_VECTOR_FILE;
  const storageBytes = (t: TensorRef): Uint8Array => {
    const s = t.storage;
    let b = storages.get(s.key);
    if (!b) {
      const e = byName.get(`${prefix}data/${s.key}`);
      if (!e) throw new FormatError(file, null, `storage record ${prefix}data/${s.key} is missing`);
      const want = s.numel * DTYPE_WIDTH[s.dtype];
      if (e.size !== want)
        throw new FormatError(file, e.headerOffset, `storage ${s.key} holds ${e.size} bytes but ${s.numel} ${s.dtype} values need ${want}`);
      if (want > budget)
        throw new FormatError(
          file,
          e.headerOffset,
          `storage ${s.key} declares ${want} bytes; a vector file's tensors may take at most ${MAX_VECTOR_FILE}`,
        );
      budget -= want;
      b = readZipEntry(src, e, want);
      storages.set(s.key, b);
    }
    return b;
  };
  return {
    file,
    root,
    toFloat32(t) {
      const raw = storageBytes(t);
      const dt = t.storage.dtype;
      if (dt !== 'float32' && dt !== 'float16' && dt !== 'bfloat16' && dt !== 'float64') {
        throw new FormatError(file, null, `tensor has dtype ${dt}; expected a floating-point tensor`);
      }
      const width = DTYPE_WIDTH[dt];
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const get = (i: number): number => {
        const at = i * width;
        switch (dt) {
          case 'float32':
            return view.getFloat32(at, !bigEndian);
          case 'float64':
            return view.getFloat64(at, !bigEndian);
          case 'float16':
            return f16ToF32(new Uint16Array([view.getUint16(at, !bigEndian)]))[0]!;
          default:
            return bf16ToF32(new Uint16Array([view.getUint16(at, !bigEndian)]))[0]!;
        }
      };
      const count = t.shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(count);
      const contiguous = t.stride.every((s, i) => t.shape[i] === 1 || s === t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
      if (contiguous && dt === 'float32' && !bigEndian) {
        new Uint8Array(out.buffer).set(raw.subarray(t.offset * 4, (t.offset + count) * 4));
        return out;
      }
      // General strided gather (counts in row-major order over the logical shape).
      const idx = new Array<number>(t.shape.length).fill(0);
      for (let n = 0; n < count; n++) {
        let src = t.offset;
        for (let d = 0; d < idx.length; d++) src += idx[d]! * t.stride[d]!;
        out[n] = get(src);
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d]! < t.shape[d]!) break;
          idx[d] = 0;
        }
      }
      return out;
    },
  };
}

/** Reads a .pt whose pickle is a single tensor. */
export function readTorchTensor(bytes: Uint8Array, file: string): TorchTensor {
  const pt = readTorchFile(bytes, file);
  if (!isTensorRef(pt.root)) {
    const what = pt.root instanceof Map ? 'a dict' : Array.isArray(pt.root) ? 'a list' : typeof pt.root;
    throw new FormatError(file, null, `expected the file to hold one tensor, found ${what}`);
  }
  return { dtype: pt.root.storage.dtype, shape: pt.root.shape, data: pt.toFloat32(pt.root) };
}

/**
 * A torch.save file holding one contiguous float32 tensor. `archiveName` is the zip's top folder
 * (torch ≥ 2 uses "archive"; torch.load accepts any).
 */
export function writeTorchTensor(shape: number[], data: Float32Array, archiveName = 'archive'): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`writeTorchTensor: shape ${JSON.stringify(shape)} needs ${count} values, got ${data.length}`);
  const enc = new TextEncoder();
  return buildStoredZip([
    { name: `${archiveName}/data.pkl`, data: pickleTensor(shape) },
    { name: `${archiveName}/byteorder`, data: enc.encode('little') },
    { name: `${archiveName}/data/0`, data: f32Bytes(data) },
    { name: `${archiveName}/version`, data: enc.encode('3\n') },
  ]);
}
