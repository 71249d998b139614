// A small ONNX graph builder: named values, nodes with typed attributes, inline constants and
// initializers whose bytes live in an external weights file (see external-data.ts).
import { AttrType, DataType, type DataTypeId } from './onnx-proto.ts';
import type { ExternalRef } from './external-data.ts';

export type Dim = number | string;
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

interface ValueInfo {
  name: string;
  type: object;
}
export interface NodeOptions {
  domain?: string;
  name?: string;
  outputs?: number;
  /** Indices of optional outputs nobody reads: left unnamed (''), so the kernel may skip them. */
  unused?: number[];
}

export const MS_DOMAIN = 'com.microsoft';

function valueInfo(name: string, elemType: DataTypeId, shape: Dim[]): ValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): object {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`internal: attribute ${name}=${v} must be an integer; wrap floats as {float}`);
    return { name, type: AttrType.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  return { name, type: AttrType.FLOATS, floats: v.floats };
}

const BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
};

export class GraphBuilder {
  private nodes: object[] = [];
  private inits: object[] = [];
  private inputs: ValueInfo[] = [];
  private outputs: ValueInfo[] = [];
  private counter = 0;
  private used = new Set<string>();
  readonly opsUsed = new Map<string, number>();

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let name = prefix;
    while (this.used.has(name)) name = `${prefix}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeId, shape: Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  output(name: string, elemType: DataTypeId, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** Emits `op`; returns its output name(s). Output names derive from `opts.name` or the op. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string {
    return this.nodeMulti(op, inputs, attrs, { ...opts, outputs: 1 })[0]!;
  }

  nodeMulti(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string[] {
    const base = this.fresh(opts.name ?? op);
    const n = opts.outputs ?? 1;
    const outs = Array.from({ length: n }, (_, i) => (opts.unused?.includes(i) ? '' : i === 0 ? base : this.fresh(`${base}_out${i}`)));
    this.nodes.push({
      name: base,
      op_type: op,
      domain: opts.domain ?? '',
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    const key = opts.domain ? `${opts.domain}.${op}` : op;
    this.opsUsed.set(key, (this.opsUsed.get(key) ?? 0) + 1);
    return outs;
  }

  /** Emits a node whose single output gets exactly `outName` (graph outputs need fixed names). */
  nodeNamed(outName: string, op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string {
    this.claim(outName);
    this.nodes.push({
      name: `${outName}_node`,
      op_type: op,
      domain: opts.domain ?? '',
      input: inputs,
      output: [outName],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outName;
  }

  /** An initializer stored inline (small constants only). */
  constant(prefix: string, elemType: DataTypeId, dims: number[], data: ArrayBufferView): string {
    const name = this.fresh(prefix);
    const expected = dims.reduce((a, b) => a * b, 1) * (BYTES[elemType] ?? 1);
    if (data.byteLength !== expected && elemType !== DataType.UINT8) {
      throw new Error(`internal: constant ${name} has ${data.byteLength} bytes, dims ${dims} need ${expected}`);
    }
    this.inits.push({ name, dims, data_type: elemType, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  int64s(prefix: string, values: number[], scalar = false): string {
    return this.constant(prefix, DataType.INT64, scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  floats(prefix: string, values: number[], scalar = false): string {
    return this.constant(prefix, DataType.FLOAT, scalar ? [] : [values.length], Float32Array.from(values));
  }

  /** An initializer whose bytes were written to the external weights file. */
  external(name: string, elemType: DataTypeId, dims: number[], ref: ExternalRef): string {
    this.claim(name);
    this.inits.push({
      name,
      dims,
      data_type: elemType,
      data_location: 1,
      external_data: [
        { key: 'location', value: ref.location },
        { key: 'offset', value: String(ref.offset) },
        { key: 'length', value: String(ref.length) },
      ],
    });
    return name;
  }

  graph(name: string): object {
    return { name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs };
  }

  private claim(name: string): void {
    if (this.used.has(name)) throw new Error(`internal: graph value ${name} defined twice`);
    this.used.add(name);
  }
}
