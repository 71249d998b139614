// The afterPack hook's fuses, through the real @electron/fuses, on a stand-in for the packaged
// binary: a file carrying Electron's fuse wire (sentinel, version 1, eight fuses at Electron's
// defaults), at the path electron-builder's Linux packager gives the executable.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import afterPack, { electronBinary } from './build/after-pack.mjs';

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** A fuse's byte in the wire: ASCII '0' off, '1' on (@electron/fuses' FuseState, which it does not export). */
const OFF = '0'.charCodeAt(0);
const ON = '1'.charCodeAt(0);
const dir = mkdtempSync(join(tmpdir(), 'ps-fuses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('afterPack fuses', () => {
  it('finds the packaged executable on each platform', () => {
    const packager = { appInfo: { productFilename: 'Persona Studio' }, executableName: 'persona-studio' };
    expect(electronBinary({ appOutDir: '/o', electronPlatformName: 'linux', arch: 1, packager })).toBe('/o/persona-studio');
    expect(electronBinary({ appOutDir: '/o', electronPlatformName: 'win32', arch: 1, packager })).toBe(join('/o', 'Persona Studio.exe'));
    expect(electronBinary({ appOutDir: '/o', electronPlatformName: 'darwin', arch: 3, packager })).toBe(join('/o', 'Persona Studio.app'));
  });

  it('turns off every way to run other code, and checks the asar', async () => {
    const appOutDir = join(dir, 'linux-unpacked');
    mkdirSync(appOutDir);
    // Electron's defaults: RunAsNode, NodeOptions, NodeCliInspect and FileProtocolExtraPrivileges on, the rest off.
    const defaults = '10110001';
    writeFileSync(
      join(appOutDir, 'persona-studio'),
      Buffer.concat([Buffer.from('ELF…'), Buffer.from(SENTINEL), Buffer.from([1, 8]), Buffer.from(defaults)]),
    );
    await afterPack({
      appOutDir,
      electronPlatformName: 'linux',
      arch: 1,
      packager: { appInfo: { productFilename: 'Persona Studio' }, executableName: 'persona-studio' },
    });
    const wire = await getCurrentFuseWire(join(appOutDir, 'persona-studio'));
    const state = (o: FuseV1Options) => (wire as unknown as Record<number, number>)[o];
    expect(state(FuseV1Options.RunAsNode)).toBe(OFF);
    expect(state(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe(OFF);
    expect(state(FuseV1Options.EnableNodeCliInspectArguments)).toBe(OFF);
    expect(state(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe(OFF);
    expect(state(FuseV1Options.OnlyLoadAppFromAsar)).toBe(ON);
    expect(state(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe(ON);
    expect(state(FuseV1Options.EnableCookieEncryption)).toBe(ON);
    expect(state(FuseV1Options.LoadBrowserProcessSpecificV8Snapshot)).toBe(OFF); // left as Electron ships it
  });
});
