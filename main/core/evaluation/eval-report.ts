// Evaluation reports: the JSON report is the EvalReport itself (every setting, provenance, metrics,
// samples with their judge scores); the HTML report is one self-contained page built from the sweep
// report's blocks (report-html.ts) — where it steered and why (the recommendation and its rule, or
// the defaults), unsteered vs steered metrics, α curves when more than one α was evaluated, and
// samples side by side. It opens offline: plotly.js is inlined and nothing is fetched.
import type { EvalColumn, EvalReport } from './evaluate.ts';
import { CURVES_JS, esc, reportJsonText, reportPage, scriptJson, settingsTable, sideBySide } from './report-html.ts';

export function evalReportJson(rep: EvalReport): string {
  return reportJsonText(rep);
}

const num = (x: number | null | undefined, digits: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '—');

export function evalReportHtml(rep: EvalReport): string {
  const p = rep.provenance;
  const at = rep.steeredAt;
  const judged = p.judge !== null;
  const columns: EvalColumn[] = [rep.unsteered, ...rep.steered];
  const head = (c: EvalColumn) => (c.alpha === null ? 'unsteered' : `α ${c.alpha}${c.alpha === at.alpha ? ' (steered)' : ''}`);
  const metricRows: [string, (c: EvalColumn) => string][] = [
    ['trait gain (projection rise / residual norm)', (c) => num(c.traitGain, 4)],
    ['projection on the direction', (c) => num(c.projection, 3)],
    ['reply perplexity (unsteered model)', (c) => num(c.perplexity, 3)],
    ['KL on neutral prompts (nats)', (c) => num(c.kl, 4)],
    ...(columns.some((c) => c.markerScore !== null)
      ? ([['marker score (per 100 words)', (c: EvalColumn) => num(c.markerScore, 2)]] as [string, (c: EvalColumn) => string][])
      : []),
    ['mean reply tokens', (c) => num(c.meanTokens, 1)],
    ['empty replies', (c) => String(c.emptyReplies)],
    ...(judged
      ? ([
          ['judge: trait 0–100', (c: EvalColumn) => num(c.judge?.trait, 1)],
          ['judge: coherence 0–100', (c: EvalColumn) => num(c.judge?.coherence, 1)],
          ['judge: replies scored', (c: EvalColumn) => `${c.judge?.scored ?? 0} of ${c.judge?.total ?? 0}`],
        ] as [string, (c: EvalColumn) => string][])
      : []),
  ];
  const metrics = `<table><tr><th>metric</th>${columns.map((c) => `<th>${esc(head(c))}</th>`).join('')}</tr>
${metricRows.map(([name, f]) => `<tr><th>${esc(name)}</th>${columns.map((c) => `<td>${f(c)}</td>`).join('')}</tr>`).join('\n')}</table>`;

  // Samples: the first reply per question and column (the same seed in every column).
  const first = (q: string, alpha: number | null) => rep.samples.find((s) => s.question === q && s.alpha === alpha);
  const withJudge = (s: EvalReport['samples'][number] | undefined) =>
    !s ? '' : s.judge ? `${s.text}\n\n[judge: trait ${num(s.judge.trait, 0)}, coherence ${num(s.judge.coherence, 0)}]` : s.text;
  const samples = sideBySide(
    columns.map(head),
    rep.questions.map((q) => ({
      question: q,
      seed: first(q, null)?.seed ?? rep.settings.seed,
      cols: columns.map((c) => withJudge(first(q, c.alpha))),
    })),
  );
  const curves = rep.steered.length > 1;
  const data = {
    alphas: [0, ...rep.steered.map((c) => c.alpha!)],
    traitGain: columns.map((c) => c.traitGain),
    perplexity: columns.map((c) => c.perplexity),
    kl: columns.map((c) => c.kl),
    markers: columns.some((c) => c.markerScore !== null) ? columns.map((c) => c.markerScore) : null,
    judgeTrait: judged ? columns.map((c) => c.judge?.trait ?? null) : null,
  };
  const body = `<h1>Evaluation: ${esc(p.persona.name)}</h1>
<p>Model ${esc(p.model.name)}${p.model.contentHash ? ` (${esc(p.model.contentHash.slice(0, 12))})` : ''} · vectors ${esc(p.persona.vectorId)} · ${rep.questions.length} questions from ${esc(p.questionsFrom)} · ${rep.settings.samples} sample(s) each · ${esc(p.createdAt)} · app ${esc(p.appVersion)} · ${(p.wallMs / 1000).toFixed(1)} s</p>
<div class="${at.source === 'default' ? 'note' : 'rec'}"><h2>Steered at layer ${at.layer}, α ${at.alpha}</h2>
<p>${esc(at.note)}.</p>
${at.recommendation ? `<p>Recommendation rule: ${esc(at.recommendation.rule)}.</p>` : ''}
<p>Judge: ${judged ? esc(p.judge!) : 'none (give one for trait and coherence scores 0–100)'}.</p></div>
<h2>Unsteered vs steered</h2>
${metrics}
${
  curves
    ? `<h2>α curves at layer ${at.layer}</h2><div id="curveTrait" class="plot"></div><div id="curvePpl" class="plot"></div><div id="curveKl" class="plot"></div>
${data.markers ? '<div id="curveMarkers" class="plot"></div>' : ''}${data.judgeTrait ? '<div id="curveJudge" class="plot"></div>' : ''}`
    : ''
}
<h2>Samples side by side</h2>
${samples}
<h2>Settings</h2>${settingsTable(rep.settings)}
<h2>Provenance</h2>${settingsTable(p)}
${
  curves
    ? `<script>
const D = ${scriptJson(data)};
${CURVES_JS}
const one = (y) => [{ name: 'layer ${at.layer}', y }];
curves('curveTrait', D.alphas, one(D.traitGain), 'trait gain (share of residual norm)', false);
curves('curvePpl', D.alphas, one(D.perplexity), 'reply perplexity under the unsteered model', true);
curves('curveKl', D.alphas, one(D.kl), 'KL(unsteered ‖ steered) on neutral prompts, nats', false);
if (D.markers) curves('curveMarkers', D.alphas, one(D.markers), 'marker score (per 100 words)', false);
if (D.judgeTrait) curves('curveJudge', D.alphas, one(D.judgeTrait), 'judge trait score 0–100', false);
</script>`
    : ''
}`;
  return reportPage(`Evaluation: ${p.persona.name} on ${p.model.name}`, body, { plots: curves });
}
