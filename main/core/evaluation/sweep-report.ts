// Sweep reports: JSON (every setting, provenance, metrics and sample) and one self-contained HTML
// file — the layer × α heatmap and α curves drawn by plotly.js, which is inlined so the report opens
// offline in any browser, samples side by side, and the recommendation with its rule.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { SweepResult } from './sweep.ts';

export interface SweepProvenance {
  model: { name: string; id: string | null; contentHash: string | null };
  persona: { name: string; id: string | null; vectorId: string | null };
  questionsFrom: string;
  appVersion: string;
  createdAt: string;
  wallMs: number;
}

export interface SweepReport {
  format: 'persona-studio/sweep-report';
  version: 1;
  provenance: SweepProvenance;
  settings: SweepResult['settings'];
  questions: string[];
  baseline: SweepResult['baseline'];
  cells: SweepResult['cells'];
  recommendation: SweepResult['recommendation'];
  samples: SweepResult['samples'];
}

export function sweepReport(r: SweepResult, provenance: SweepProvenance): SweepReport {
  return {
    format: 'persona-studio/sweep-report',
    version: 1,
    provenance,
    settings: r.settings,
    questions: r.questions,
    baseline: r.baseline,
    cells: r.cells,
    recommendation: r.recommendation,
    samples: r.samples,
  };
}

/** Infinity and NaN are not JSON: they travel as strings a reader can tell apart. */
export function reportJson(rep: SweepReport): string {
  return JSON.stringify(rep, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

let plotlySource: string | null = null;
function plotly(): string {
  plotlySource ??= fs.readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), 'utf8');
  return plotlySource;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a <script> element. */
const scriptJson = (x: unknown) =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)).replace(/</g, '\\u003c');

export function reportHtml(rep: SweepReport): string {
  const { layers, alphas } = rep.settings;
  const cell = (l: number, a: number) => rep.cells.find((c) => c.layer === l && c.alpha === a)!;
  const grid = (f: (c: SweepReport['cells'][number]) => number | null) => layers.map((l) => alphas.map((a) => f(cell(l, a))));
  const data = {
    layers,
    alphas,
    traitGain: grid((c) => c.traitGain),
    perplexity: grid((c) => c.perplexity),
    kl: grid((c) => c.kl),
    markers: rep.cells.some((c) => c.markerScore !== null) ? grid((c) => c.markerScore) : null,
    recommendation: rep.recommendation,
  };
  const rec = rep.recommendation;
  const p = rep.provenance;
  // Samples side by side: one row per question (first sample), one column per α, at the recommended
  // layer (or the middle swept layer when nothing was recommended), the unsteered reply first.
  const showLayer = rec.layer ?? layers[Math.floor(layers.length / 2)]!;
  const firstSeed = rep.settings.seed;
  const sampleText = (q: string, layer: number | null, alpha: number) =>
    rep.samples.find((s) => s.question === q && s.layer === layer && s.alpha === alpha && s.seed >= firstSeed)?.text ?? '';
  const sampleRows = rep.questions
    .map((q) => {
      const seedRow = rep.samples.find((s) => s.question === q)!;
      const cols = [sampleText(q, null, 0), ...alphas.map((a) => sampleText(q, showLayer, a))];
      return `<tr><th>${esc(q)}<div class="seed">seed ${seedRow.seed}</div></th>${cols.map((t) => `<td>${esc(t)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const settingsRows = Object.entries(rep.settings)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(JSON.stringify(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep: ${esc(p.persona.name)} on ${esc(p.model.name)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
td{white-space:pre-wrap;max-width:28em}.seed{font-weight:normal;color:#777;font-size:12px}.rec{background:#eef7ee;padding:1em;border-radius:6px}
.plot{width:100%;max-width:960px;height:420px}
</style>
<script>${plotly().replace(/<\/script/gi, '<\\/script')}</script>
</head><body>
<h1>Layer × α sweep: ${esc(p.persona.name)}</h1>
<p>Model ${esc(p.model.name)}${p.model.contentHash ? ` (${esc(p.model.contentHash.slice(0, 12))})` : ''} · ${rep.questions.length} questions from ${esc(p.questionsFrom)} · ${esc(p.createdAt)} · app ${esc(p.appVersion)} · ${(p.wallMs / 1000).toFixed(1)} s</p>
<div class="rec"><h2>Recommendation</h2>
<p><b>${rec.layer === null ? 'none' : `layer ${rec.layer}, α ${rec.alpha}`}</b> — ${esc(rec.reason)}</p>
<p>Rule: ${esc(rec.rule)}.</p>
<p>Unsteered reply perplexity ${rep.baseline.perplexity.toFixed(3)}${rep.baseline.markerScore !== null ? `, marker score ${rep.baseline.markerScore.toFixed(2)}` : ''}.</p></div>
<h2>Trait gain (layer × α)</h2><div id="heat" class="plot"></div>
<h2>α curves</h2><div id="curveTrait" class="plot"></div><div id="curvePpl" class="plot"></div><div id="curveKl" class="plot"></div>
${data.markers ? '<div id="curveMarkers" class="plot"></div>' : ''}
<h2>Samples at layer ${showLayer}</h2>
<table><tr><th>question</th><th>unsteered</th>${alphas.map((a) => `<th>α ${a}</th>`).join('')}</tr>
${sampleRows}</table>
<h2>Settings</h2><table>${settingsRows}</table>
<script>
const D = ${scriptJson(data)};
const cfg = { displaylogo: false, responsive: true };
const labels = D.alphas.map(String);
Plotly.newPlot('heat', [{ type: 'heatmap', z: D.traitGain, x: labels, y: D.layers.map(String), colorscale: 'Viridis',
  hovertemplate: 'layer %{y}, α %{x}: gain %{z:.3f}<extra></extra>' }],
  { xaxis: { title: { text: 'α' }, type: 'category' }, yaxis: { title: { text: 'layer' }, type: 'category' } }, cfg);
const curves = (id, z, title, log) => Plotly.newPlot(id, D.layers.map((l, i) => ({ x: D.alphas, y: z[i], name: 'layer ' + l, mode: 'lines+markers' })),
  { title: { text: title }, xaxis: { title: { text: 'α' } }, yaxis: { type: log ? 'log' : 'linear' } }, cfg);
curves('curveTrait', D.traitGain, 'trait gain (share of residual norm)', false);
curves('curvePpl', D.perplexity, 'reply perplexity under the unsteered model', true);
curves('curveKl', D.kl, 'KL(unsteered ‖ steered) on neutral prompts, nats', false);
if (D.markers) curves('curveMarkers', D.markers, 'marker score (per 100 words)', false);
</script>
</body></html>
`;
}
