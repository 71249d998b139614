// The CLI called in-process, as tests call it: its exit code and everything it printed.
import { Readable } from 'node:stream';
import { main } from '../main.ts';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `persona-studio --data-dir DIR …argv`; `stdin` lines feed interactive commands (chat). */
export async function runCli(dataDir: string, argv: string[], stdin?: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(['--data-dir', dataDir, ...argv], {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    ...(stdin ? { stdin: Readable.from(stdin.map((l) => `${l}\n`)) } : {}),
  });
  return { code, out, err };
}
