// Settings and the judge key: defaults from the one schema, changes kept, bad values refused with the
// field named (nothing saved lost), the key stored 0600 and never shown, the env var winning over it.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appContract, settingsPatchSchema, settingsSchema } from '../../../preload/contract.ts';
import { SettingsStore, resolveJudgeKey, settingsJudge } from './settings-store.ts';
import { fileSecretStore, JUDGE_KEY_SECRET, SECRETS_FILE } from './secret-store.ts';
import { chosenDataDir, resolveDataDir } from '../data-dir.ts';
import { createAppService } from '../app-service.ts';
import type { HandlerContext } from '../rpc/contract.ts';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ps-settings-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('settings', () => {
  it('starts from the schema defaults and keeps what is set', () => {
    const d = temp();
    const s = new SettingsStore(d, join(d, 'loc.json'));
    expect(s.get()).toEqual(settingsSchema.parse({}));
    s.set({ threads: 4, judgeUrl: 'http://127.0.0.1:8080' });
    expect(new SettingsStore(d, join(d, 'loc.json')).get()).toMatchObject({
      threads: 4,
      judgeUrl: 'http://127.0.0.1:8080',
      provider: 'auto',
    });
  });

  it('refuses a bad value with one line naming the field, and keeps the file', () => {
    const d = temp();
    const s = new SettingsStore(d, join(d, 'loc.json'));
    s.set({ threads: 2 });
    expect(() => s.set({ threads: -1 })).toThrow(/^settings\.threads: /);
    expect(() => s.set({ judgeUrl: 'ftp://x' })).toThrow('settings.judgeUrl: must be an http(s) URL, or empty for no endpoint judge');
    expect(() => s.set({ dataDir: 'relative/dir' })).toThrow('settings.dataDir: must be an absolute path (or empty for the default)');
    expect(s.get().threads).toBe(2);
    writeFileSync(s.file, '{"threads": "many"}');
    expect(() => s.get()).toThrow(`${s.file}.threads: `);
  });

  it('the data dir choice goes to the location file and applies at the next start (explicit dirs still win)', () => {
    const d = temp();
    const loc = join(d, 'loc.json');
    const s = new SettingsStore(d, loc);
    s.set({ dataDir: '/srv/studio' });
    expect(chosenDataDir(loc)).toBe('/srv/studio');
    expect(s.get().dataDir).toBe('/srv/studio');
    expect(JSON.parse(readFileSync(s.file, 'utf8'))).not.toHaveProperty('dataDir');
    // resolveDataDir reads the location file in the default folder ($XDG_CONFIG_HOME/persona-studio on Linux).
    const xdg = temp();
    const env = { XDG_CONFIG_HOME: xdg };
    new SettingsStore(d, join(xdg, 'persona-studio', 'data-dir.json')).set({ dataDir: '/srv/other' });
    if (process.platform === 'linux') expect(resolveDataDir({}, env)).toBe('/srv/other');
    expect(resolveDataDir({ dataDir: '/explicit' }, env)).toBe('/explicit');
    s.set({ dataDir: '' });
    expect(chosenDataDir(loc)).toBeNull();
  });

  it('keeps the judge key in a 0600 file; the env var wins; the endpoint judge gets it', () => {
    const d = temp();
    const secrets = fileSecretStore(d);
    expect(resolveJudgeKey(secrets, {})).toBeUndefined();
    secrets.set(JUDGE_KEY_SECRET, 'sk-stored');
    expect(statSync(join(d, SECRETS_FILE)).mode & 0o777).toBe(0o600);
    expect(resolveJudgeKey(secrets, {})).toBe('sk-stored');
    expect(resolveJudgeKey(secrets, { PERSONA_STUDIO_JUDGE_KEY: 'sk-env' })).toBe('sk-env');
    expect(settingsJudge(settingsSchema.parse({}), secrets)).toBeNull();
    expect(settingsJudge(settingsSchema.parse({ judgeUrl: 'http://127.0.0.1:9', judgeModel: 'm' }), secrets)?.id).toBe(
      'endpoint:http://127.0.0.1:9#m',
    );
    secrets.delete(JUDGE_KEY_SECRET);
    expect(resolveJudgeKey(secrets, {})).toBeUndefined();
    writeFileSync(join(d, SECRETS_FILE), '[1]');
    expect(() => secrets.get('x')).toThrow('not a secrets file');
  });

  it('the app service never returns the key, only whether it is set', async () => {
    const d = temp();
    const service = createAppService({ dataDir: d, dataDirLocationFile: join(d, 'loc.json') });
    const ctx = { id: 1, signal: new AbortController().signal, emit: () => {} } as unknown as HandlerContext<never, never>;
    try {
      const h = service.handlers;
      expect((await h['settings.get']({}, ctx as never)).judgeKey).toBe('not set');
      const set = await h['settings.setJudgeKey']({ key: 'sk-secret-123' }, ctx as never);
      expect(set.judgeKey).toBe('set');
      expect(JSON.stringify(set)).not.toContain('sk-secret-123');
      expect(set.secretStore).toBe('file');
      expect(set.dataDirInUse).toBe(d);
      // A patch changes only its fields (through the contract's parse, as a call from the renderer does).
      const patch = (v: unknown) => appContract['settings.set'].args.parse(v);
      await h['settings.set'](patch({ judgeUrl: 'http://127.0.0.1:8080', judgeModel: 'qwen' }), ctx as never);
      const after = (await h['settings.set'](patch({ threads: 3 }), ctx as never)).settings;
      expect(after).toMatchObject({ threads: 3, judgeUrl: 'http://127.0.0.1:8080', judgeModel: 'qwen' });
      expect(() => patch({ threads: 1, colour: 'red' })).toThrow();
      expect(Object.keys(settingsPatchSchema.shape)).toEqual(Object.keys(settingsSchema.shape));
      expect((await h['settings.clearJudgeKey']({}, ctx as never)).judgeKey).toBe('not set');
      const info = await h['app.info']({ probeHub: false }, ctx as never);
      expect(info.defaultModel.repo).toBe('Qwen/Qwen3-0.6B');
      expect(info.defaultModel.downloadBytes).toBeGreaterThan(1e9);
      expect(info.promptSetFiles.map((p) => p.name)).toContain('formal-vs-casual');
      expect(info.hub.reachable).toBeNull();
    } finally {
      await service.close();
    }
  });
});
