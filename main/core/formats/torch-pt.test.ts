import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from './errors.ts';
import { isTensorRef, pickleTensor, unpickle } from './pickle.ts';
import { readTorchFile, readTorchTensor, writeTorchTensor } from './torch-pt.ts';
import { bits, randomVector, tempDir } from './test-support/sample.ts';
import { buildStoredZip } from './zip.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const fx = join(import.meta.dirname, 'fixtures');
const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8')) as Record<
  string,
  { shape: number[]; dtype: string; bits: number[] }
>;

/** The first python3 that can import torch (Debian's python3-torch lives under /usr/bin/python3). */
function torchPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

const enc = new TextEncoder();
const raw = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
function ptWith(pickle: Uint8Array, extra: { name: string; data: Uint8Array }[] = []): Uint8Array {
  return buildStoredZip([{ name: 'archive/data.pkl', data: pickle }, ...extra, { name: 'archive/version', data: enc.encode('3\n') }]);
}

describe('torch .pt', () => {
  it('round-trips float32 tensors bit-exactly, 64-byte aligned', () => {
    for (const shape of [[7], [3, 5], [2, 3, 4], [70_000], []]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = randomVector(n, n);
      const bytes = writeTorchTensor(shape, data);
      const t = readTorchTensor(bytes, 'x.pt');
      expect(t.shape).toEqual(shape);
      expect(t.dtype).toBe('float32');
      expect(bits(t.data)).toEqual(bits(data));
      const at = Buffer.from(bytes).indexOf(Buffer.from(new Uint8Array(data.buffer, 0, Math.min(8, data.byteLength))));
      expect(at % 64).toBe(0);
    }
  });

  it('reads what torch.save wrote: bfloat16, a transposed view, a dict', () => {
    const bf = readTorchTensor(readFileSync(join(fx, 'bf16.pt')), 'bf16.pt');
    expect([bf.dtype, bf.shape]).toEqual(['bfloat16', [3, 4]]);
    expect(bits(bf.data)).toEqual(expected['bf16.pt']!.bits);
    const st = readTorchTensor(readFileSync(join(fx, 'strided.pt')), 'strided.pt');
    expect(st.shape).toEqual([4, 3]);
    expect(Array.from(st.data)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    const d = readTorchFile(readFileSync(join(fx, 'dict.pt')), 'dict.pt');
    expect(d.root).toBeInstanceOf(Map);
    const a = (d.root as Map<string, unknown>).get('a');
    expect(isTensorRef(a) && Array.from(d.toFloat32(a))).toEqual([1, 1]);
    expect(() => readTorchTensor(readFileSync(join(fx, 'dict.pt')), 'dict.pt')).toThrow(
      'dict.pt: expected the file to hold one tensor, found a dict',
    );
  });

  it('refuses any global other than the tensor rebuild functions', () => {
    const evil = raw('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.');
    expect(() => unpickle(evil, 'evil.pkl')).toThrow(
      'evil.pkl: at byte 2: refusing pickle global os.system (only torch tensor rebuild functions are allowed)',
    );
    const stackGlobal = raw('\x80\x04\x8c\x08builtins\x8c\x04eval\x93.');
    expect(() => unpickle(stackGlobal, 'sg.pkl')).toThrow(/refusing pickle global builtins\.eval/);
    const inPt = ptWith(evil);
    expect(() => readTorchTensor(inPt, 'evil.pt')).toThrow(/^evil\.pt: at byte \d+: refusing pickle global os\.system/);
    const callStorage = raw('\x80\x02ctorch\nFloatStorage\n)R.');
    expect(() => unpickle(callStorage, 'c.pkl')).toThrow(/calls torch\.FloatStorage, which cannot be called/);
  });

  it('reads big-endian storages when the byteorder record says so', () => {
    const data = new Float32Array([1.5, -2, 3e10]);
    const be = new Uint8Array(12);
    data.forEach((x, i) => new DataView(be.buffer).setFloat32(i * 4, x, false));
    const bytes = ptWith(pickleTensor([3]), [
      { name: 'archive/byteorder', data: enc.encode('big') },
      { name: 'archive/data/0', data: be },
    ]);
    expect(bits(readTorchTensor(bytes, 'be.pt').data)).toEqual(bits(data));
  });

  it('names the legacy format, missing storages and shapes that overrun storage', () => {
    const legacy = new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0, 0]);
    expect(() => readTorchTensor(legacy, 'old.pt')).toThrow('old.pt: at byte 0: saved in the legacy torch.save format');
    expect(() => readTorchTensor(ptWith(pickleTensor([3])), 'nostore.pt')).toThrow('nostore.pt: storage record archive/data/0 is missing');
    const short = ptWith(pickleTensor([4]), [{ name: 'archive/data/0', data: new Uint8Array(12) }]);
    expect(() => readTorchTensor(short, 'short.pt')).toThrow(/storage 0 holds 12 bytes but 4 float32 values need 16/);
    // A pickle claiming a [1000, 1000] view of a 4-element storage.
    const big = Buffer.from(pickleTensor([4]));
    const lying = ptWith(
      new Uint8Array(
        Buffer.concat([
          big.subarray(0, big.indexOf('Q') + 1),
          Buffer.from([0x4b, 0, 0x4d, 0xe8, 0x03, 0x4d, 0xe8, 0x03, 0x86, 0x4d, 0xe8, 0x03, 0x4b, 1, 0x86, 0x89]),
          big.subarray(big.indexOf('ccollections')),
        ]),
      ),
      [{ name: 'archive/data/0', data: new Uint8Array(16) }],
    );
    expect(() => readTorchTensor(lying, 'lying.pt')).toThrow(
      /lying\.pt: at byte \d+: tensor of size \[1000,1000\].*does not fit its storage of 4 elements/,
    );
    expect(() => readTorchTensor(new Uint8Array(10), 'zeros.pt')).toThrow(FormatError);
  });

  const py = torchPython();
  it.skipIf(!py)('torch.load opens what we write (python3-torch)', () => {
    const data = randomVector(6 * 8, 3);
    const path = join(tmp.dir, 'ours.pt');
    writeFileSync(path, writeTorchTensor([6, 8], data));
    const script = [
      'import sys, json, struct, torch',
      'kw = {"weights_only": True} if "weights_only" in torch.load.__code__.co_varnames else {}',
      't = torch.load(sys.argv[1], **kw)',
      'print(json.dumps({"shape": list(t.shape), "dtype": str(t.dtype), "bits": [struct.unpack("<I", struct.pack("<f", x))[0] for x in t.reshape(-1).tolist()]}))',
    ].join('\n');
    const r = spawnSync(py!, ['-c', script, path], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { shape: number[]; dtype: string; bits: number[] };
    expect(out.shape).toEqual([6, 8]);
    expect(out.dtype).toBe('torch.float32');
    expect(out.bits).toEqual(bits(data));
  });
  if (!py) console.log('skipped torch.load check: no python3 with torch (install the Debian package python3-torch)');
});
