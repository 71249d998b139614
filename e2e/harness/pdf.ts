// A PDF checked the way a reader sees it: poppler's pdfinfo for the page count and page size, and
// every page rendered by pdftoppm (grey, low resolution) to prove it is not blank. Text through
// pdftotext, for what the report must say.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the PDF checks cannot run here (poppler-utils missing), or null. */
export function popplerSkipReason(): string | null {
  return spawnSync('pdfinfo', ['-v']).error ? 'no pdfinfo/pdftoppm (apt install poppler-utils)' : null;
}

export interface PdfPage {
  /** Share of pixels darker than mid-grey: 0 for a blank page. */
  ink: number;
}

export function pdfInfo(file: string): { pages: number; pageSize: string } {
  const out = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(out)?.[1] ?? NaN);
  const pageSize = /^Page size:\s+(.+)$/m.exec(out)?.[1]?.trim() ?? '';
  return { pages, pageSize };
}

/** Every page rendered at 30 dpi as 8-bit grey (PGM, parsed here: no image library needed). */
export function pdfPages(file: string): PdfPage[] {
  const dir = mkdtempSync(join(tmpdir(), 'ps-pdf-'));
  try {
    execFileSync('pdftoppm', ['-gray', '-r', '30', file, join(dir, 'p')]);
    return readdirSync(dir)
      .filter((f) => f.endsWith('.pgm'))
      .sort()
      .map((f) => {
        const buf = readFileSync(join(dir, f));
        // P5 header: "P5" width height maxval, each followed by one whitespace byte.
        const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'))!;
        const pixels = buf.subarray(header[0].length);
        let dark = 0;
        for (const p of pixels) if (p < 128) dark++;
        return { ink: dark / pixels.length };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}
