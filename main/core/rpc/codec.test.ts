// The codec's promise: decode(JSON.parse(JSON.stringify(encode(x)))) deep-equals x for everything
// our messages carry, and hostile input is refused with its path.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base64Decode, base64Encode, CodecError, decode, encode, fromJson, toJson } from './codec.ts';

const viaJson = (x: unknown) => decode(JSON.parse(JSON.stringify(encode(x))));

const leaf = fc.oneof(
  fc.double(), // NaN, ±Infinity and -0 included
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.float32Array(),
  fc.float64Array(),
  fc.int32Array(),
  fc.uint8Array(),
  fc.int8Array(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.uint32Array(),
);
const key = fc.oneof(fc.string(), fc.constantFrom('$f32', '$map', '$num', '$obj', '$undefined', '$x', '__proto__', 'constructor'));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('map')),
  array: fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  map: fc.array(fc.tuple(fc.oneof(fc.integer(), fc.string()), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
}));

describe('codec', () => {
  it('round-trips any message through JSON (property)', () => {
    fc.assert(
      fc.property(value, (x) => {
        expect(viaJson(x)).toEqual(x);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips what JSON alone loses: typed arrays, Maps, NaN, ±Infinity, -0, undefined in arrays', () => {
    const x = {
      vectors: new Map([
        [3, Float32Array.of(1.5, -0, NaN, Infinity)],
        [7, Float32Array.of()],
      ]),
      sums: new Map([[0, Float64Array.of(Math.PI, -Infinity)]]),
      tokens: Int32Array.of(-1, 2 ** 31 - 1),
      logprob: -Infinity,
      zero: -0,
      perRow: [undefined, { alpha: 1 }],
      $weird: { $f32: 'not a tag here' },
    };
    const back = fromJson(toJson(x)) as typeof x;
    expect(back).toEqual(x);
    expect(back.vectors.get(3)).toBeInstanceOf(Float32Array);
    expect(Object.is(back.zero, -0)).toBe(true);
    expect(back.perRow).toStrictEqual([undefined, { alpha: 1 }]);
    expect(JSON.parse(toJson(x)).$obj.logprob).toEqual({ $num: '-Infinity' }); // escaped: x has a '$' key
  });

  it('sends only the bytes of a subarray view, into an aligned buffer of its own', () => {
    const big = Float32Array.from({ length: 16 }, (_, i) => i);
    const view = big.subarray(3, 7);
    const back = viaJson(view) as Float32Array;
    expect(Array.from(back)).toEqual([3, 4, 5, 6]);
    expect(back.buffer.byteLength).toBe(16);
  });

  it('keeps a __proto__ key as a plain property', () => {
    const back = fromJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(back)).toEqual(['__proto__']);
  });

  it('refuses what JSON cannot carry, naming the path', () => {
    expect(() => encode({ a: [1, () => 0] })).toThrow(new CodecError('message.a[1]: a function cannot be sent'));
    expect(() => encode({ when: new Date(0) })).toThrow('message.when: a Date cannot be sent');
    expect(() => encode(new Set([1]))).toThrow('message: a Set cannot be sent');
    expect(() => encode({ n: 1n })).toThrow('message.n: a bigint cannot be sent');
    expect(() => encode(new BigInt64Array(1))).toThrow('a BigInt64Array cannot be sent');
  });

  it('refuses malformed tagged values from the wire, naming the path', () => {
    expect(() => fromJson('{"v": {"$f32": "AAA"}}')).toThrow('message.v: $f32 is not valid base64');
    expect(() => fromJson('{"v": {"$f32": "AAAAAAA="}}')).toThrow('message.v: $f32 has 5 bytes, not a whole number of 4-byte elements');
    expect(() => fromJson('{"v": {"$f64": "AAAA"}}')).toThrow('message.v: $f64 has 3 bytes, not a whole number of 8-byte elements');
    expect(() => fromJson('[{"$map": 3}]')).toThrow('message[0]: $map expects an array of [key, value] pairs');
    expect(() => fromJson('{"$map": [[1]]}')).toThrow('message: $map entry 0 is not a [key, value] pair');
    expect(() => fromJson('{"$num": "toString"}')).toThrow('message: $num expects NaN, Infinity, -Infinity or -0, got "toString"');
    expect(() => fromJson('{"$obj": [1]}')).toThrow('message: $obj expects an object');
  });

  it('the portable base64 coder agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40_000 }), (bytes) => {
        const s = base64Encode(bytes);
        expect(s).toBe(Buffer.from(bytes).toString('base64'));
        expect(base64Decode(s)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
});
