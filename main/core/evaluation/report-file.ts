// Writing a report where the user asked, by the file's extension: .html/.htm (self-contained page),
// .json, or .pdf (the HTML printed by a headless Chromium, report-pdf.ts). With no Chromium on the
// machine a .pdf request writes the HTML, which carries a print stylesheet, beside it (out.pdf →
// out.html) and says so: callers report that as a failure to produce the PDF (the CLI exits 3).
// A face with a printer of its own (Electron's printToPDF) passes it and needs no Chromium.
import fs from 'node:fs';
import { StudioError } from '../errors.ts';
import { findChromium, htmlToPdf } from './report-pdf.ts';

export type ReportKind = 'html' | 'json' | 'pdf';

/** Prints a report's HTML to a PDF file. Electron main supplies one on webContents.printToPDF. */
export type PdfPrinter = (html: string, out: string, signal?: AbortSignal) => Promise<void>;

/** The report's kind from its file name; a usage error naming `label` otherwise. */
export function reportKind(file: string, label = '--report'): ReportKind {
  if (/\.html?$/i.test(file)) return 'html';
  if (/\.json$/i.test(file)) return 'json';
  if (/\.pdf$/i.test(file)) return 'pdf';
  throw new StudioError('usage', `${label} ${JSON.stringify(file)}: expected a .html, .json or .pdf file name`);
}

export interface WrittenReport {
  /** The file written. */
  path: string;
  kind: ReportKind;
  /** Set when a PDF was asked for and the HTML was written instead: why, in one line. */
  fallback: string | null;
}

function writeAtomic(file: string, text: string) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export async function writeReport(
  file: string,
  build: { html: () => string; json: () => string },
  opts: { label?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv; printPdf?: PdfPrinter } = {},
): Promise<WrittenReport> {
  const kind = reportKind(file, opts.label);
  if (kind === 'json') writeAtomic(file, build.json());
  else if (kind === 'html') writeAtomic(file, build.html());
  else {
    const html = build.html();
    if (opts.printPdf) {
      await opts.printPdf(html, file, opts.signal);
      return { path: file, kind, fallback: null };
    }
    const chromium = findChromium(opts.env);
    if (!chromium) {
      const instead = file.replace(/\.pdf$/i, '.html');
      writeAtomic(instead, html);
      return {
        path: instead,
        kind: 'html',
        fallback: `${opts.label ?? '--report'} ${file}: no Chromium to print a PDF with (install chromium or set $PERSONA_STUDIO_CHROMIUM); wrote ${instead} instead, which prints to PDF from any browser`,
      };
    }
    await htmlToPdf(html, file, chromium, { signal: opts.signal });
  }
  return { path: file, kind, fallback: null };
}
