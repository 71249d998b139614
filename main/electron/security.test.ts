// The desktop app's security decisions, under plain Node: what the app:// protocol serves, where
// the page may navigate, which links open outside, whose IPC is answered, the CSP.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  appResponseHeaders,
  contentSecurityPolicy,
  isAllowedExternal,
  isAppUrl,
  navigationDecision,
  resolveAppPath,
  senderRefusal,
} from './security.ts';

describe('app:// path resolution', () => {
  const root = path.posix.resolve('/opt/studio/out/renderer');
  const at = (url: string) => resolveAppPath(root, url, path.posix);

  it('serves files under the root, index.html for the top', () => {
    expect(at('app://studio/')).toBe(`${root}/index.html`);
    expect(at('app://studio')).toBe(`${root}/index.html`);
    expect(at(APP_ENTRY_URL)).toBe(`${root}/index.html`);
    expect(at('app://studio/assets/index-abc.js?x=1#y')).toBe(`${root}/assets/index-abc.js`);
    expect(at('app://studio/assets/a%20b.css')).toBe(`${root}/assets/a b.css`);
    expect(at('app://studio/assets/')).toBe(`${root}/assets/index.html`);
  });

  it('refuses every way out of the root', () => {
    // The URL parser itself folds '..' and '%2e%2e' segments at the top: what is left stays inside.
    expect(at('app://studio/../secret')).toBe(`${root}/secret`);
    expect(at('app://studio/%2e%2e/secret')).toBe(`${root}/secret`);
    // An encoded separator survives the parser and is caught here.
    for (const url of [
      'app://studio/%2E%2E%2Fsecret',
      'app://studio/assets/..%2f..%2f..%2fetc/passwd',
      'app://studio/..%2f..%2fetc%2fpasswd',
      'app://studio/%2fetc%2fpasswd/..%2f..%2f..%2f..',
      'app://studio/..%5c..%5csecret',
      'app://studio/a%00.js',
      'app://studio/%E0%A4%A', // malformed escape
      'app://studio/C:/Windows/win.ini',
    ])
      expect(at(url), url).toBeNull();
  });

  it('never resolves outside the root, whatever the path (property)', () => {
    const segment = fc.oneof(fc.constantFrom('..', '%2e%2e', '.', '%2e', '%2f', '%5c', '%00', 'a', 'index.html', ''), fc.string());
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        const file = at(`app://studio/${parts.join('/')}`);
        expect(file === null || file.startsWith(`${root}/`)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses other schemes and hosts', () => {
    expect(at('file:///opt/studio/out/renderer/index.html')).toBeNull();
    expect(at('app://evil/index.html')).toBeNull();
    expect(at('https://studio/index.html')).toBeNull();
    expect(at('not a url')).toBeNull();
  });

  it('applies the Windows rules: backslashes, drives, streams, UNC', () => {
    const winRoot = 'C:\\Program Files\\Persona Studio\\resources\\app.asar\\out\\renderer';
    const win = (url: string) => resolveAppPath(winRoot, url, path.win32);
    expect(win('app://studio/assets/x.js')).toBe(`${winRoot}\\assets\\x.js`);
    for (const url of [
      'app://studio/..%5C..%5Csecret',
      'app://studio/%2e%2e%5csecret',
      'app://studio/C:%5CWindows',
      'app://studio/index.html:stream',
      'app://studio/%5C%5Cserver%5Cshare',
      'app://studio/..%2f..%2f..%2fsecret',
    ])
      expect(win(url), url).toBeNull();
  });
});

describe('navigation and links', () => {
  it('lets the app reload itself and nothing else navigate in the window', () => {
    expect(navigationDecision(`${APP_ORIGIN}/index.html#/models`, 'navigate')).toBe('allow');
    expect(navigationDecision('https://evil.example/', 'navigate')).toBe('deny');
    expect(navigationDecision('file:///etc/passwd', 'navigate')).toBe('deny');
    expect(navigationDecision('app://other/index.html', 'navigate')).toBe('deny');
    expect(navigationDecision('javascript:alert(1)', 'navigate')).toBe('deny');
  });

  it('never opens a new app window, not even for its own URL', () => {
    expect(navigationDecision(APP_ENTRY_URL, 'new-window')).toBe('deny');
    expect(navigationDecision('http://huggingface.co/Qwen', 'new-window')).toBe('deny');
  });

  it('opens allow-listed https links in the system browser', () => {
    expect(navigationDecision('https://huggingface.co/Qwen/Qwen3-0.6B', 'new-window')).toBe('open-external');
    expect(navigationDecision('https://github.com/x/y', 'navigate')).toBe('open-external');
  });

  it('allows only https, listed hosts exactly, no credentials, no odd port', () => {
    expect(isAllowedExternal('https://huggingface.co/')).toBe(true);
    expect(isAllowedExternal('https://HuggingFace.co/x')).toBe(true);
    for (const url of [
      'http://huggingface.co/',
      'https://huggingface.co.evil.example/',
      'https://evil.example/huggingface.co',
      'https://sub.huggingface.co/',
      'https://user:pw@huggingface.co/',
      'https://huggingface.co@evil.example/',
      'https://huggingface.co:8443/',
      'file:///C:/Windows/System32/calc.exe',
      'ms-msdt:/id',
      'smb://huggingface.co/share',
      '',
    ])
      expect(isAllowedExternal(url), url).toBe(false);
  });

  it('recognises the app URL by scheme and host only', () => {
    expect(isAppUrl('app://studio/x')).toBe(true);
    expect(isAppUrl('app://studio.evil/x')).toBe(false);
    expect(isAppUrl('app://user@studio/x')).toBe(false);
    expect(isAppUrl('APP://STUDIO/')).toBe(true); // URL parsing lower-cases scheme and host, as Chromium does
  });
});

describe('IPC sender check', () => {
  it("answers only the app page's top frame", () => {
    expect(senderRefusal({ url: `${APP_ORIGIN}/index.html#/`, isMainFrame: true })).toBeNull();
    expect(senderRefusal({ url: `${APP_ORIGIN}/index.html`, isMainFrame: false })).toMatch(/sub-frame/);
    expect(senderRefusal({ url: 'https://evil.example/?token=x', isMainFrame: true })).toBe(
      "https://evil.example/ is not the app's page (app://studio)",
    );
    expect(senderRefusal({ url: 'file:///x/index.html', isMainFrame: true })).toMatch(/not the app's page/);
    expect(senderRefusal(null)).toBe('the sending frame is gone');
  });
});

describe('Content-Security-Policy', () => {
  const directives = new Map(
    contentSecurityPolicy()
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values]),
  );

  it('allows scripts from the app only: no inline, no eval, no remote', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(contentSecurityPolicy()).not.toMatch(/unsafe-eval|https?:|\*/);
  });

  it('forbids plugins, frames, forms and base rewriting', () => {
    for (const d of ['object-src', 'frame-src', 'frame-ancestors', 'base-uri', 'form-action'])
      expect(directives.get(d), d).toEqual(["'none'"]);
  });

  it('leaves frame-ancestors out of the <meta> form only', () => {
    expect(contentSecurityPolicy('meta')).toBe(contentSecurityPolicy().replace("; frame-ancestors 'none'", ''));
  });

  it('goes with every app:// response, with nosniff and a content type', () => {
    const h = appResponseHeaders('/r/assets/x.js');
    expect(h['content-security-policy']).toBe(contentSecurityPolicy());
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['content-type']).toBe('text/javascript; charset=utf-8');
    expect(appResponseHeaders('/r/blob.bin')['content-type']).toBe('application/octet-stream');
  });
});
