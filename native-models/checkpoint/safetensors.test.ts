// Malformed safetensors files fail with one line naming the file; valid ones round-trip.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'ps-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withHeader(name: string, header: unknown, data = Buffer.alloc(0)): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([len, json, data]));
  return path;
}

describe('safetensors', () => {
  it('round-trips F32, F16 and BF16 with metadata', () => {
    const data = Float32Array.from([1, -2.5, 0.15625, 65504, -0]);
    const path = join(dir, 'ok.safetensors');
    writeSafetensors(
      path,
      [
        { name: 'a', shape: [5], data },
        { name: 'b', shape: [1, 5], data, dtype: 'F16' },
        { name: 'c', shape: [5, 1], data, dtype: 'BF16' },
      ],
      { note: 'hi' },
    );
    const f = new SafetensorsFile(path);
    expect(Array.from(f.readFloat32('a'))).toEqual(Array.from(data));
    expect(Array.from(f.readFloat32('b'))).toEqual(Array.from(data));
    expect(Array.from(f.readFloat32('c'))).toEqual([1, -2.5, 0.15625, 65536, -0]);
    expect(f.metadata).toEqual({ note: 'hi' });
    f.close();
  });

  it.each([
    ['metadata null', { __metadata__: null }, /__metadata__ is not an object/],
    ['not an object', [1, 2], /header is not a JSON object/],
    ['bad entry', { w: { dtype: 'F32', shape: 'x', data_offsets: [0, 4] } }, /tensor "w" has a malformed header entry/],
    ['unknown dtype', { w: { dtype: 'Q7', shape: [1], data_offsets: [0, 1] } }, /unknown dtype Q7/],
    ['size mismatch', { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, /spans 8 bytes but F32\[3\] needs 12/],
    ['past the end', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, /past the end of the file/],
  ])('rejects %s with one line naming the file', (name, header, pattern) => {
    const path = withHeader(`${name}.safetensors`, header, Buffer.alloc(4));
    expect(() => new SafetensorsFile(path)).toThrow(pattern);
    try {
      new SafetensorsFile(path);
    } catch (e) {
      expect((e as Error).message).toContain(path);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('rejects a file shorter than its header length field', () => {
    const path = join(dir, 'short.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expect(() => new SafetensorsFile(path)).toThrow(/truncated safetensors file \(3 bytes/);
  });
});
