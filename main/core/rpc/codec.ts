// Messages between processes carry typed arrays (vectors, logits, activations) and Maps (per-layer
// vectors). Electron's IPC and worker_threads pass them by structured clone as they are; browser
// mode sends JSON over a WebSocket, which would turn a Float32Array into an object of numbered keys
// and a Map into {}. encode() rewrites them into JSON-safe tagged objects and decode() restores
// them, so decode(JSON.parse(JSON.stringify(encode(x)))) deep-equals x:
//   Float32Array → { $f32: base64 of its bytes }   (also $f64 $i8 $i16 $i32 $u8 $u16 $u32)
//   Map          → { $map: [[key, value], …] }
//   NaN, ±Infinity, -0 → { $num: 'NaN' | 'Infinity' | '-Infinity' | '-0' }   (JSON has none of them)
//   undefined in an array → { $undefined: 1 }   (an object's undefined property is simply left out)
//   an object with a key starting with '$' → { $obj: { …its entries, values encoded } }
// Bytes travel in the platform's order, little-endian on every platform Electron and onnxruntime
// ship for. Anything else that JSON cannot carry (functions, bigint, Date, Set, class instances)
// is refused with its path rather than silently mangled.

type TypedArrayCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor;

const TYPED: [tag: string, ctor: TypedArrayCtor][] = [
  ['$f32', Float32Array],
  ['$f64', Float64Array],
  ['$i8', Int8Array],
  ['$i16', Int16Array],
  ['$i32', Int32Array],
  ['$u8', Uint8Array],
  ['$u16', Uint16Array],
  ['$u32', Uint32Array],
];
const CTOR_OF_TAG = new Map(TYPED);
const TAGS = new Set([...CTOR_OF_TAG.keys(), '$map', '$num', '$undefined', '$obj']);

export class CodecError extends Error {
  override name = 'CodecError';
}

const at = (path: string) => (path === '' ? 'message' : `message${path}`);

/** A JSON-safe copy of `value` (see the table above). */
export function encode(value: unknown, path = ''): unknown {
  switch (typeof value) {
    case 'number':
      if (Number.isNaN(value)) return { $num: 'NaN' };
      if (value === Infinity) return { $num: 'Infinity' };
      if (value === -Infinity) return { $num: '-Infinity' };
      if (Object.is(value, -0)) return { $num: '-0' };
      return value;
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return { $undefined: 1 };
    case 'object':
      break;
    default:
      throw new CodecError(`${at(path)}: a ${typeof value} cannot be sent`);
  }
  if (value === null) return null;
  if (ArrayBuffer.isView(value)) {
    const tag = TYPED.find(([, ctor]) => value instanceof ctor)?.[0];
    if (!tag) throw new CodecError(`${at(path)}: a ${value.constructor.name} cannot be sent`);
    return { [tag]: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map((v, i) => encode(v, `${path}[${i}]`));
  if (value instanceof Map)
    return { $map: [...value].map(([k, v], i) => [encode(k, `${path}<key ${i}>`), encode(v, `${path}<${String(k)}>`)]) };
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    throw new CodecError(`${at(path)}: a ${proto?.constructor?.name ?? 'class instance'} cannot be sent`);
  const out: Record<string, unknown> = {};
  let escape = false;
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (k.startsWith('$')) escape = true;
    setOwn(out, k, encode(v, `${path}.${k}`));
  }
  return escape ? { $obj: out } : out;
}

/** The value `encode` was given, from its JSON-parsed form. Bad input throws naming the path. */
export function decode(value: unknown, path = ''): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => decode(v, `${path}[${i}]`));
  const entries = Object.entries(value);
  const tag = entries.length === 1 ? entries[0]![0] : '';
  if (!TAGS.has(tag)) return decodeEntries(entries, path);
  const body = entries[0]![1];
  const bad = (what: string) => new CodecError(`${at(path)}: ${tag} ${what}`);
  const ctor = CTOR_OF_TAG.get(tag);
  if (ctor) {
    if (typeof body !== 'string') throw bad('expects a base64 string');
    const bytes = fromBase64(body, () => bad('is not valid base64'));
    if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0)
      throw bad(`has ${bytes.byteLength} bytes, not a whole number of ${ctor.BYTES_PER_ELEMENT}-byte elements`);
    return new ctor(bytes.buffer as ArrayBuffer, 0, bytes.byteLength / ctor.BYTES_PER_ELEMENT);
  }
  switch (tag) {
    case '$map':
      if (!Array.isArray(body)) throw bad('expects an array of [key, value] pairs');
      return new Map(
        body.map((pair, i) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw bad(`entry ${i} is not a [key, value] pair`);
          const key = decode(pair[0], `${path}<key ${i}>`);
          return [key, decode(pair[1], `${path}<${String(key)}>`)];
        }),
      );
    case '$num': {
      const special: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 };
      if (typeof body !== 'string' || !Object.hasOwn(special, body))
        throw bad(`expects NaN, Infinity, -Infinity or -0, got ${JSON.stringify(body)}`);
      return special[body]!;
    }
    case '$undefined':
      return undefined;
    default: // '$obj'
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('expects an object');
      return decodeEntries(Object.entries(body), path);
  }
}

function decodeEntries(entries: [string, unknown][], path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) setOwn(out, k, decode(v, `${path}.${k}`));
  return out;
}

/** out[k] = v, except that a "__proto__" key stays a plain property instead of a prototype. */
function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** encode + JSON.stringify: one message as WebSocket text. */
export function toJson(message: unknown): string {
  return JSON.stringify(encode(message));
}

/** JSON.parse + decode: one message from WebSocket text. */
export function fromJson(text: string): unknown {
  return decode(JSON.parse(text));
}

// ---------------------------------------------------------------------------------------------
// base64. Node's Buffer is several times faster than any JS loop, so it is used where it exists
// (main, CLI, server); the portable coder serves the renderer. Both are tested against each other.

const NodeBuffer = (globalThis as { Buffer?: typeof import('node:buffer').Buffer }).Buffer;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function toBase64(bytes: Uint8Array): string {
  return NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : base64Encode(bytes);
}

/** Decoded bytes in a fresh ArrayBuffer of their own (aligned for any element size). */
function fromBase64(s: string, bad: () => Error): Uint8Array {
  if (!BASE64.test(s)) throw bad();
  if (!NodeBuffer) return base64Decode(s);
  const b = NodeBuffer.from(s, 'base64');
  const out = new Uint8Array(b.byteLength);
  out.set(b);
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 with padding, without Buffer. Exported for tests. */
export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let s = '';
    let i = start;
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      s += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
    }
    if (i < end) {
      const n = (bytes[i]! << 16) | ((i + 1 < end ? bytes[i + 1]! : 0) << 8);
      s += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + (i + 1 < end ? ALPHABET[(n >> 6) & 63]! : '=') + '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Inverse of base64Encode for well-formed input (checked by the caller). Exported for tests. */
export function base64Decode(s: string): Uint8Array {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n =
      (VALUE[s.charCodeAt(i)]! << 18) |
      (VALUE[s.charCodeAt(i + 1)]! << 12) |
      (VALUE[s.charCodeAt(i + 2)]! << 6) |
      VALUE[s.charCodeAt(i + 3)]!;
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
