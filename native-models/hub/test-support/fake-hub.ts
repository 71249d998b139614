// A local stand-in for the Hugging Face hub on 127.0.0.1 (port 0), serving model folders with the
// hub's URL layout and headers: the revision API with blobs, `resolve/{rev}/{file}` with
// x-repo-commit, etag, content-length and Range, and LFS files (*.safetensors) as a 302 to a second
// server (another origin, as the hub's CDN is). Faults for tests: drop a connection after N bytes
// once, corrupt a file's bytes, require a token (a gated repo). Every request is logged.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FakeRepo {
  dir: string;
  /** Requests need `Authorization: Bearer {token}` (401 otherwise, 403 for a wrong one). */
  token?: string;
}

interface Blob {
  name: string;
  data: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

export interface FakeHub {
  endpoint: string;
  /** Every request: server ('hub' | 'lfs'), path, range and authorization headers. */
  log: { server: 'hub' | 'lfs'; path: string; range?: string; authorization?: string }[];
  /** The next response for this file closes the socket after `bytes` bytes of content. */
  dropOnce(file: string, bytes: number): void;
  /** Responses for this file flip one byte (in the middle) until cleared. */
  corrupt(file: string | null): void;
  commit(repo: string): string;
  close(): Promise<void>;
}

const listen = (s: Server) =>
  new Promise<string>((ok) => s.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const blobs = new Map<string, Blob[]>();
  const commits = new Map<string, string>();
  for (const [id, r] of Object.entries(repos)) {
    const files = readdirSync(r.dir)
      .filter((f) => !f.endsWith('.md'))
      .sort()
      .map((name): Blob => {
        const data = readFileSync(join(r.dir, name));
        return {
          name,
          data,
          lfs: name.endsWith('.safetensors'),
          sha256: createHash('sha256').update(data).digest('hex'),
          gitSha1: createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex'),
        };
      });
    blobs.set(id, files);
    commits.set(
      id,
      createHash('sha1')
        .update(id)
        .update(files.map((f) => f.sha256).join())
        .digest('hex'),
    );
  }
  const log: FakeHub['log'] = [];
  const drops = new Map<string, number>();
  let corrupted: string | null = null;

  /** Sends `data` honouring Range; may drop the connection or corrupt a byte as the test asked. */
  function sendContent(req: IncomingMessage, res: ServerResponse, blob: Blob, headers: Record<string, string>) {
    let data = blob.data;
    if (corrupted === blob.name) {
      data = Buffer.from(data);
      data[data.length >> 1]! ^= 0xff;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    if (start > data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, {
      ...headers,
      'accept-ranges': 'bytes',
      'content-length': String(body.length),
      'content-type': 'application/octet-stream',
      ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    const drop = drops.get(blob.name);
    if (drop !== undefined && drop < body.length) {
      drops.delete(blob.name);
      res.write(body.subarray(0, drop), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }

  let lfsBase = '';
  const lfs = createServer((req, res) => {
    log.push({ server: 'lfs', path: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
    const m = /^\/lfs\/([^/]+)\/([0-9a-f]{64})$/.exec(req.url ?? '');
    const blob = m && blobs.get(decodeURIComponent(m[1]!))?.find((b) => b.sha256 === m[2]);
    if (!blob) return void res.writeHead(404).end('not found');
    sendContent(req, res, blob, { etag: `"${blob.sha256}"` });
  });
  const hub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ server: 'hub', path: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const id = decodeURIComponent((api ?? resolve)?.[1] ?? '');
    const repo = repos[id];
    const rev = decodeURIComponent((api ?? resolve)?.[2] ?? '');
    const commit = commits.get(id);
    if (!repo || !commit || (rev !== 'main' && rev !== commit))
      return void res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    if (repo.token !== undefined) {
      const auth = req.headers.authorization;
      if (!auth) return void res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('Access to this model is restricted');
      if (auth !== `Bearer ${repo.token}`) return void res.writeHead(403).end('Forbidden');
    }
    const files = blobs.get(id)!;
    if (api) {
      const body = {
        id,
        sha: commit,
        siblings: files.map((b) =>
          b.lfs
            ? {
                rfilename: b.name,
                size: b.data.length,
                blobId: b.gitSha1,
                lfs: { sha256: b.sha256, size: b.data.length, pointerSize: 134 },
              }
            : { rfilename: b.name, size: b.data.length, blobId: b.gitSha1 },
        ),
      };
      return void res.writeHead(200, { 'content-type': 'application/json', 'x-repo-commit': commit }).end(JSON.stringify(body));
    }
    const blob = files.find((b) => b.name === decodeURIComponent(resolve![3]!));
    if (!blob) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    if (blob.lfs)
      return void res
        .writeHead(302, {
          location: `${lfsBase}/lfs/${encodeURIComponent(id)}/${blob.sha256}`,
          'x-repo-commit': commit,
          'x-linked-etag': `"${blob.sha256}"`,
          'x-linked-size': String(blob.data.length),
        })
        .end();
    sendContent(req, res, blob, { etag: `"${blob.gitSha1}"`, 'x-repo-commit': commit });
  });
  lfsBase = await listen(lfs);
  const endpoint = await listen(hub);
  const close = (s: Server) => new Promise<void>((ok) => (s.closeAllConnections(), s.close(() => ok())));
  return {
    endpoint,
    log,
    dropOnce: (file, bytes) => void drops.set(file, bytes),
    corrupt: (file) => void (corrupted = file),
    commit: (repo) => commits.get(repo)!,
    close: async () => {
      await close(hub);
      await close(lfs);
    },
  };
}
