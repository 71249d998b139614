// A restricted unpickler for torch.save's data.pkl, and a writer for the pickle torch.save emits
// for one tensor. The unpickler builds plain values, and only the globals torch needs to rebuild
// tensors are allowed: any other global (os.system, builtins.eval…) is refused, so loading a file
// never runs or names code. Every opcode consumes input, so parsing ends within the file's length.
import { ByteReader, ByteWriter } from './bytes.ts';

export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
export const DTYPE_WIDTH: Record<TorchDtype, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};
const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
export interface StorageRef {
  kind: 'storage';
  key: string;
  dtype: TorchDtype;
  numel: number;
  location: string;
}
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}
export type PyKey = string | number | bigint | boolean | null;
export type PyValue =
  null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | Map<PyKey, PyValue> | PyGlobal | StorageRef | TensorRef;

const ALLOWED_GLOBALS = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  'collections.OrderedDict',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

export function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}
function isStorageRef(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && (v as StorageRef).kind === 'storage';
}

const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;
const MAX_DIMS = 8;
/** Container nesting (lists, dicts, tuples) a pickle may build; torch's state dicts use a handful. */
export const MAX_PICKLE_DEPTH = 64;
type Container = PyValue[] | Map<PyKey, PyValue> | PyTuple;
const isContainer = (v: PyValue): v is Container => Array.isArray(v) || v instanceof Map || v instanceof PyTuple;
const isScalar = (v: PyValue): v is PyKey => v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v);

/**
 * Unpickles `bytes` (protocols 2–5). `base` is the offset of the pickle inside the enclosing file,
 * so errors point at the right byte of that file.
 */
export function unpickle(bytes: Uint8Array, file: string, base = 0): PyValue {
  const r = new ByteReader(bytes, file, base);
  const stack: Slot[] = [];
  const memo = new Map<number, PyValue>();
  let opAt = 0;
  const fail: (msg: string) => never = (msg) => r.fail(msg, opAt);
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) fail('pickle stack underflow');
    if (v === MARK) fail('unexpected mark on the pickle stack');
    return v as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('pickle stack underflow');
    const v = stack[stack.length - 1]!;
    if (v === MARK) fail('unexpected mark on the pickle stack');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('pickle mark missing');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  // Keys are scalars or tuples of scalars (what state dicts use): a key holding lists would be
  // stringified, and a list shared down 40 levels stringifies to 2^40 items.
  const key = (v: PyValue): PyKey => {
    if (isScalar(v)) return v;
    if (v instanceof PyTuple && v.items.every(isScalar)) return JSON.stringify(v.items.map((x) => String(x)));
    return fail('unsupported dictionary key type (only strings, numbers and tuples of them)');
  };
  // Nesting depth, kept exact by building bottom-up: a container placed inside another is sealed,
  // and changing a sealed container (how a pickle would build a cycle or deepen a tree after the
  // fact) is refused. Python's pickler always completes a value before its parent holds it.
  const depthOf = new WeakMap<Container, number>();
  const sealed = new WeakSet<Container>();
  const depth = (v: PyValue): number => (isContainer(v) ? (depthOf.get(v) ?? 1) : 0);
  const nest = <C extends Container>(parent: C, child: PyValue): void => {
    if (!isContainer(child)) return;
    if (child === (parent as Container)) fail('pickle puts a container inside itself');
    sealed.add(child);
    const d = depth(child) + 1;
    if (d > MAX_PICKLE_DEPTH) fail(`pickle nests containers deeper than ${MAX_PICKLE_DEPTH} levels`);
    if (d > depth(parent)) depthOf.set(parent, d);
  };
  const unsealed = (c: Container): void => {
    if (sealed.has(c)) fail('pickle changes a container after placing it inside another (cyclic or out-of-order pickle)');
  };
  const tuple = (items: PyValue[]): PyTuple => {
    const t = new PyTuple(items);
    for (const it of items) nest(t, it);
    return t;
  };
  const str = (n: number, what: string): string => r.utf8(n, what);
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) fail(`refusing pickle global ${full} (only torch tensor rebuild functions are allowed)`);
    return new PyGlobal(module, name);
  };
  const int = (v: PyValue, what: string): number => {
    const n = typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) fail(`${what} should be an integer`);
    return n as number;
  };
  const ints = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple)) return fail(`${what} should be a tuple`);
    if (v.items.length > MAX_DIMS) fail(`${what} has ${v.items.length} dimensions (at most ${MAX_DIMS})`);
    return v.items.map((x) => int(x, what));
  };
  const rebuildTensor = (args: PyValue[]): TensorRef => {
    const [storage, offsetV, sizeV, strideV] = args;
    if (!isStorageRef(storage)) return fail('tensor rebuild expects a storage as its first argument');
    const offset = int(offsetV ?? null, 'storage offset');
    const shape = ints(sizeV ?? null, 'tensor size');
    const stride = ints(strideV ?? null, 'tensor stride');
    if (shape.length !== stride.length) fail(`tensor size has ${shape.length} dimensions but stride has ${stride.length}`);
    if (offset < 0 || shape.some((d) => d < 0) || stride.some((s) => s < 0)) fail('tensor offset, size and stride must be non-negative');
    let count = 1;
    let last = offset;
    for (let i = 0; i < shape.length; i++) {
      count *= shape[i]!;
      last += (shape[i]! - 1) * stride[i]!;
    }
    // count ≤ storage length rules out views that repeat elements (expand), which would let a tiny
    // file ask for an arbitrarily large array.
    if (count > 0 && (last >= storage.numel || count > storage.numel)) {
      fail(
        `tensor of size ${JSON.stringify(shape)} (offset ${offset}, stride ${JSON.stringify(stride)}) does not fit its storage of ${storage.numel} elements`,
      );
    }
    return { kind: 'tensor', storage, offset, shape, stride };
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal)) return fail('pickle REDUCE on something that is not an allowed global');
    if (!(args instanceof PyTuple)) return fail('pickle REDUCE arguments are not a tuple');
    const a = args.items;
    switch (`${fn.module}.${fn.name}`) {
      case 'torch._utils._rebuild_tensor_v2':
        if (a.length < 6 || a.length > 7) fail(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${a.length}`);
        return rebuildTensor(a);
      case 'torch._utils._rebuild_tensor':
        if (a.length !== 4) fail(`_rebuild_tensor takes 4 arguments, got ${a.length}`);
        return rebuildTensor(a);
      case 'torch._utils._rebuild_parameter':
        if (a.length !== 3 || !isTensorRef(a[0])) fail('_rebuild_parameter expects (tensor, requires_grad, hooks)');
        return a[0]!;
      case 'collections.OrderedDict': {
        const m = new Map<PyKey, PyValue>();
        if (a.length === 1 && Array.isArray(a[0])) {
          for (const pair of a[0]) {
            if (!(pair instanceof PyTuple) || pair.items.length !== 2) fail('OrderedDict items should be pairs');
            m.set(key((pair as PyTuple).items[0]!), (pair as PyTuple).items[1]!);
            nest(m, (pair as PyTuple).items[1]!);
          }
        } else if (a.length !== 0) fail('OrderedDict takes no arguments or a list of pairs');
        return m;
      }
      default:
        return fail(`pickle calls ${fn.module}.${fn.name}, which cannot be called`);
    }
  };
  const setItems = (d: PyValue, items: PyValue[]): void => {
    if (!(d instanceof Map)) return fail('pickle SETITEM on something that is not a dict');
    if (items.length % 2) fail('pickle SETITEMS with an odd number of items');
    unsealed(d);
    for (let i = 0; i < items.length; i += 2) {
      d.set(key(items[i]!), items[i + 1]!);
      nest(d, items[i + 1]!);
    }
  };
  const appendItems = (l: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(l)) return fail('pickle APPEND on something that is not a list');
    unsealed(l);
    for (const it of items) {
      l.push(it);
      nest(l, it);
    }
  };

  for (;;) {
    opAt = r.pos;
    const op = r.u8('pickle opcode');
    switch (op) {
      case 0x80: {
        const p = r.u8('protocol');
        if (p > 5) fail(`pickle protocol ${p} is not supported`);
        break;
      } // PROTO
      case 0x95:
        r.u64('frame length');
        break; // FRAME: framing is only a buffering hint
      case 0x2e: {
        // STOP
        const v = pop();
        if (stack.length) fail('pickle ends with extra items on the stack');
        return v;
      }
      case 0x28:
        stack.push(MARK);
        break;
      case 0x29:
        stack.push(tuple([]));
        break;
      case 0x74:
        stack.push(tuple(popMark()));
        break;
      case 0x85:
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop(),
          a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c: {
        const l: PyValue[] = [];
        appendItems(l, popMark());
        stack.push(l);
        break;
      } // LIST
      case 0x61: {
        const v = pop();
        appendItems(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        appendItems(top(), items);
        break;
      } // APPENDS
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const items = popMark();
        const d = new Map<PyKey, PyValue>();
        setItems(d, items);
        stack.push(d);
        break;
      } // DICT
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x58:
        stack.push(str(r.u32('string length'), 'string'));
        break; // BINUNICODE
      case 0x8c:
        stack.push(str(r.u8('string length'), 'string'));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(str(r.u64('string length'), 'string'));
        break; // BINUNICODE8
      case 0x55:
        stack.push(str(r.u8('string length'), 'string'));
        break; // SHORT_BINSTRING
      case 0x54: {
        const n = r.i32('string length');
        if (n < 0) fail('negative string length');
        stack.push(str(n, 'string'));
        break;
      } // BINSTRING
      case 0x43:
        stack.push(r.take(r.u8('bytes length'), 'bytes').slice());
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(r.take(r.u32('bytes length'), 'bytes').slice());
        break; // BINBYTES
      case 0x4a:
        stack.push(r.i32('int'));
        break; // BININT
      case 0x4b:
        stack.push(r.u8('int'));
        break; // BININT1
      case 0x4d:
        stack.push(r.u16('int'));
        break; // BININT2
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes
        const n = r.u8('long length');
        const b = r.take(n, 'long');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x47:
        stack.push(r.f64BE('float'));
        break; // BINFLOAT (big-endian)
      case 0x71:
        memo.set(r.u8('memo index'), top());
        break; // BINPUT
      case 0x72:
        memo.set(r.u32('memo index'), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const i = op === 0x68 ? r.u8('memo index') : r.u32('memo index');
        if (!memo.has(i)) fail(`pickle memo entry ${i} was never stored`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x63: {
        // GLOBAL "module\nname\n"
        const readLine = (): string => {
          const start = r.pos;
          const end = bytes.indexOf(0x0a, start);
          if (end < 0 || end - start > 256) fail('unterminated GLOBAL name');
          r.pos = start;
          const s = str(end - start, 'global name');
          r.pos = end + 1;
          return s;
        };
        const module = readLine();
        stack.push(global(module, readLine()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(),
          module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop(),
          fn = pop();
        stack.push(call(fn, args));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop(),
          cls = pop();
        stack.push(call(cls, args));
        break;
      } // NEWOBJ
      case 0x62: {
        // BUILD: only the empty state torch attaches to tensors and OrderedDicts
        const state = pop();
        const obj = top();
        const empty =
          state === null ||
          (state instanceof Map && state.size === 0) ||
          (state instanceof PyTuple && state.items.every((x) => x === null || (x instanceof Map && x.size === 0)));
        if (!(obj instanceof Map || isTensorRef(obj)) || !empty) fail('pickle BUILD with object state is not supported');
        break;
      }
      case 0x51: {
        // BINPERSID: torch's storage reference
        const pid = pop();
        if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage')
          fail('persistent id is not a torch storage reference');
        const [, type, k, location, numelV] = (pid as PyTuple).items;
        if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES))
          fail('persistent id names an unknown storage type');
        if (typeof k !== 'string' || !/^[0-9A-Za-z_]{1,64}$/.test(k)) fail('storage key should be a short name');
        const numel = int(numelV!, 'storage size');
        if (numel < 0) fail('negative storage size');
        stack.push({
          kind: 'storage',
          key: k as string,
          dtype: STORAGE_DTYPES[(type as PyGlobal).name]!,
          numel,
          location: String(location),
        });
        break;
      }
      default:
        fail(`pickle opcode 0x${op.toString(16).padStart(2, '0')} is not supported`);
    }
  }
}

/** The protocol-2 pickle torch.save writes for one float32 tensor whose storage is record "0". */
export function pickleTensor(shape: number[], storageKey = '0'): Uint8Array {
  const w = new ByteWriter();
  const enc = new TextEncoder();
  const op = (c: string): void => {
    w.u8(c.charCodeAt(0));
  };
  const glob = (module: string, name: string): void => {
    op('c');
    w.bytes(enc.encode(`${module}\n${name}\n`));
  };
  const unicode = (s: string): void => {
    const b = enc.encode(s);
    op('X');
    w.u32(b.length).bytes(b);
  };
  const intOp = (n: number): void => {
    if (n >= 0 && n < 256) {
      op('K');
      w.u8(n);
    } else if (n >= 0 && n < 65536) {
      op('M');
      w.u16(n);
    } else if (n >= -(2 ** 31) && n < 2 ** 31) {
      op('J');
      w.i32(n);
    } else {
      op('\x8a');
      w.u8(8);
      w.i64(BigInt(n));
    }
  };
  const tuple = (items: number[]): void => {
    if (items.length === 0) {
      op(')');
      return;
    }
    if (items.length <= 3) {
      items.forEach(intOp);
      w.u8(0x84 + items.length);
      return;
    }
    op('(');
    items.forEach(intOp);
    op('t');
  };
  const numel = shape.reduce((a, b) => a * b, 1);
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  w.u8(0x80).u8(2);
  glob('torch._utils', '_rebuild_tensor_v2');
  op('(');
  op('(');
  unicode('storage');
  glob('torch', 'FloatStorage');
  unicode(storageKey);
  unicode('cpu');
  intOp(numel);
  op('t');
  op('Q');
  intOp(0);
  tuple(shape);
  tuple(stride);
  w.u8(0x89);
  glob('collections', 'OrderedDict');
  op(')');
  op('R');
  op('t');
  op('R');
  op('.');
  return w.finish();
}
