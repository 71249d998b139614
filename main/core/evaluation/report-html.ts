// Building blocks of the self-contained HTML reports (sweeps, evaluations): escaping, JSON safe in a
// <script>, plotly.js inlined (so a report opens offline in any browser), one stylesheet with a
// print stylesheet (PDF output and printing: no clipped plots, tables kept on the page), samples
// side by side, and a settings table.
import fs from 'node:fs';
import { createRequire } from 'node:module';

let plotlySource: string | null = null;
/** plotly.js as an inline <script> element. */
export function plotlyScript(): string {
  plotlySource ??= fs.readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), 'utf8');
  return `<script>${plotlySource.replace(/<\/script/gi, '<\\/script')}</script>`;
}

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON safe inside a <script> element (non-finite numbers become null). */
export const scriptJson = (x: unknown) =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)).replace(/</g, '\\u003c');

/** Infinity and NaN are not JSON: in report files they travel as strings a reader can tell apart. */
export const reportJsonText = (x: unknown) =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);

export const REPORT_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
td{white-space:pre-wrap;max-width:28em}.seed{font-weight:normal;color:#777;font-size:12px}.rec{background:#eef7ee;padding:1em;border-radius:6px}
.note{background:#fff6e0;padding:.5em 1em;border-radius:6px}
.plot{width:100%;max-width:960px;height:420px}
@media print{
  @page{size:A4;margin:14mm}
  body{margin:0;font-size:11px}
  .plot{max-width:none;width:180mm;height:95mm;page-break-inside:avoid;break-inside:avoid}
  tr,.rec,.note{page-break-inside:avoid;break-inside:avoid}
  td{max-width:none}
  h2{page-break-after:avoid;break-after:avoid}
}`;

/** A whole report page: title, inline plotly.js when it draws plots, the body. */
export function reportPage(title: string, body: string, opts: { plots: boolean }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
${REPORT_CSS}
</style>
${opts.plots ? plotlyScript() : ''}
</head><body>
${body}
</body></html>
`;
}

/** A two-column table of settings (values as JSON). */
export function settingsTable(settings: Record<string, unknown>): string {
  return `<table>${Object.entries(settings)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(JSON.stringify(v))}</td></tr>`)
    .join('')}</table>`;
}

/** Samples side by side: one row per question (with its seed), one column per heading. */
export function sideBySide(headings: string[], rows: { question: string; seed: number; cols: string[] }[]): string {
  return `<table><tr><th>question</th>${headings.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>
${rows
  .map(
    (r) => `<tr><th>${esc(r.question)}<div class="seed">seed ${r.seed}</div></th>${r.cols.map((t) => `<td>${esc(t)}</td>`).join('')}</tr>`,
  )
  .join('\n')}</table>`;
}

/** α curves: one line per series over α (plotly, drawn by the page's script). */
export const CURVES_JS = `const cfg = { displaylogo: false, responsive: true };
const curves = (id, xs, series, title, log) => Plotly.newPlot(id, series.map((s) => ({ x: xs, y: s.y, name: s.name, mode: 'lines+markers' })),
  { title: { text: title }, xaxis: { title: { text: 'α' } }, yaxis: { type: log ? 'log' : 'linear' } }, cfg);`;
