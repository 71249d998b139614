// Sweep reports: JSON (every setting, provenance, metrics and sample) and one self-contained HTML
// file — the layer × α heatmap and α curves drawn by plotly.js, which is inlined so the report opens
// offline in any browser, samples side by side, and the recommendation with its rule.
import type { SweepResult } from './sweep.ts';
import { CURVES_JS, esc, reportJsonText, reportPage, scriptJson, settingsTable, sideBySide } from './report-html.ts';

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
  return reportJsonText(rep);
}

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
  const samples = sideBySide(
    ['unsteered', ...alphas.map((a) => `α ${a}`)],
    rep.questions.map((q) => ({
      question: q,
      seed: rep.samples.find((s) => s.question === q)!.seed,
      cols: [sampleText(q, null, 0), ...alphas.map((a) => sampleText(q, showLayer, a))],
    })),
  );
  const body = `<h1>Layer × α sweep: ${esc(p.persona.name)}</h1>
<p>Model ${esc(p.model.name)}${p.model.contentHash ? ` (${esc(p.model.contentHash.slice(0, 12))})` : ''} · ${rep.questions.length} questions from ${esc(p.questionsFrom)} · ${esc(p.createdAt)} · app ${esc(p.appVersion)} · ${(p.wallMs / 1000).toFixed(1)} s</p>
<div class="rec"><h2>Recommendation</h2>
<p><b>${rec.layer === null ? 'none' : `layer ${rec.layer}, α ${rec.alpha}`}</b> — ${esc(rec.reason)}</p>
<p>Rule: ${esc(rec.rule)}.</p>
<p>Unsteered reply perplexity ${rep.baseline.perplexity.toFixed(3)}${rep.baseline.markerScore !== null ? `, marker score ${rep.baseline.markerScore.toFixed(2)}` : ''}.</p></div>
<h2>Trait gain (layer × α)</h2><div id="heat" class="plot"></div>
<h2>α curves</h2><div id="curveTrait" class="plot"></div><div id="curvePpl" class="plot"></div><div id="curveKl" class="plot"></div>
${data.markers ? '<div id="curveMarkers" class="plot"></div>' : ''}
<h2>Samples at layer ${showLayer}</h2>
${samples}
<h2>Settings</h2>${settingsTable(rep.settings)}
<script>
const D = ${scriptJson(data)};
${CURVES_JS}
const labels = D.alphas.map(String);
Plotly.newPlot('heat', [{ type: 'heatmap', z: D.traitGain, x: labels, y: D.layers.map(String), colorscale: 'Viridis',
  hovertemplate: 'layer %{y}, α %{x}: gain %{z:.3f}<extra></extra>' }],
  { xaxis: { title: { text: 'α' }, type: 'category' }, yaxis: { title: { text: 'layer' }, type: 'category' } }, cfg);
const byLayer = (z) => D.layers.map((l, i) => ({ name: 'layer ' + l, y: z[i] }));
curves('curveTrait', D.alphas, byLayer(D.traitGain), 'trait gain (share of residual norm)', false);
curves('curvePpl', D.alphas, byLayer(D.perplexity), 'reply perplexity under the unsteered model', true);
curves('curveKl', D.alphas, byLayer(D.kl), 'KL(unsteered ‖ steered) on neutral prompts, nats', false);
if (D.markers) curves('curveMarkers', D.alphas, byLayer(D.markers), 'marker score (per 100 words)', false);
</script>`;
  return reportPage(`Sweep: ${p.persona.name} on ${p.model.name}`, body, { plots: true });
}
