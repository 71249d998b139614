import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './test-support/sample.ts';
import { buildStoredZip, fileSource, isSafeEntryName, memorySource, readZipDirectory, readZipEntry, ZipFileWriter } from './zip.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('zip', () => {
  it('accepts only entry names that stay inside their folder', () => {
    for (const ok of ['manifest.json', 'a/b/c.bin', 'dir/', 'persona 🙂.json', "it's;DROP TABLE x.json", '..a/b..', 'a/.hidden'])
      expect(isSafeEntryName(ok), ok).toBe(true);
    for (const bad of ['', '../x', 'a/../../x', '/etc/passwd', 'C:/x', 'c:x', 'a\\..\\x', 'a//b', './a', 'a/./b', 'a/..', 'x\0y', '..'])
      expect(isSafeEntryName(bad), bad).toBe(false);
  });

  it('stored zips round-trip and align data', () => {
    const data = new Uint8Array(100).map((_, i) => i);
    const z = buildStoredZip([
      { name: 'x/one', data },
      { name: 'x/two', data: data.subarray(3, 50) },
    ]);
    const src = memorySource(z, 'm.zip');
    const entries = readZipDirectory(src);
    expect(entries.map((e) => [e.name, e.dataOffset % 64])).toEqual([
      ['x/one', 0],
      ['x/two', 0],
    ]);
    expect(Array.from(readZipEntry(src, entries[1]!, 1000))).toEqual(Array.from(data.subarray(3, 50)));
    expect(() => readZipEntry(src, entries[0]!, 10)).toThrow('m.zip: at byte 0: entry "x/one" is 100 bytes, more than the 10 allowed');
    expect(Object.keys(unzipSync(z))).toEqual(['x/one', 'x/two']);
  });

  it('streamed deflate archives are read by fflate and by our reader', () => {
    const path = join(tmp.dir, 'a.zip');
    const fd = openSync(path, 'w');
    const w = new ZipFileWriter(fd);
    const big = new Uint8Array(3_000_000).map((_, i) => (i * 7) % 251);
    w.add('m.json', [new TextEncoder().encode('{"a":1}')]);
    w.add('blob', [big.subarray(0, 1_000_000), big.subarray(1_000_000)]);
    w.add('empty', []);
    w.finish();
    closeSync(fd);
    const theirs = unzipSync(readFileSync(path));
    expect(Buffer.from(theirs.blob!).equals(Buffer.from(big))).toBe(true);
    const src = fileSource(path);
    try {
      const entries = readZipDirectory(src);
      expect(entries.map((e) => e.name)).toEqual(['m.json', 'blob', 'empty']);
      expect(Buffer.from(readZipEntry(src, entries[1]!, 1 << 23)).equals(Buffer.from(big))).toBe(true);
      expect(readZipEntry(src, entries[2]!, 10).length).toBe(0);
      expect(entries[1]!.compressedSize).toBeLessThan(big.length);
    } finally {
      src.close();
    }
  });
});
