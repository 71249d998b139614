// The demo model's style figures (assets/demo-model/README.md): style marker rates with no system
// prompt, with held-out system prompts of each pole, and with a persona direction from contrastive
// system prompts added at one layer with α in the `norm` scale and no system prompt.
// Replies are to held-out questions (unseen topics and frames), seeded, temperature 0.7.
// Usage: npx tsx bench/demo-model.ts [--layer 5] [--alphas=-1.5,-1,0,1,1.5] [--samples 48] [--sets a,b]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { markerStats } from '../main/core/evaluation/markers.ts';
import {
  calibrateNorms,
  demoPromptSet,
  demoPromptSetNames,
  directionFromSystemPrompts,
  loadDemoModel,
  sampleReplies,
  steerAt,
  type ReplyRow,
} from '../main/core/test-support/demo-model.ts';

const { values } = parseArgs({
  options: {
    layer: { type: 'string', default: '' },
    alphas: { type: 'string', default: '-1,-0.75,-0.5,0,0.5,0.75,1' },
    samples: { type: 'string', default: '48' },
    sets: { type: 'string', default: '' },
    model: { type: 'string', default: '' },
  },
});
const alphas = values.alphas.split(',').map(Number);
const samples = Number(values.samples);
const root = mkdtempSync(join(tmpdir(), 'ps-demo-bench-'));
const t0 = performance.now();
const m = await loadDemoModel(root, values.model || undefined);
const L = m.model.arch.numLayers;
const layer = values.layer === '' ? Math.round((2 * L) / 3) : Number(values.layer); // layer 5 of 8: where the sweep steers best
console.log(
  `demo model: ${L} layers, hidden ${m.model.arch.hidden}; compile ${m.compileMs.toFixed(0)} ms, load ${m.loadMs.toFixed(0)} ms; steering at layer ${layer}`,
);

const names = values.sets ? values.sets.split(',') : demoPromptSetNames();
const first = demoPromptSet(names[0]!);
const norms = await calibrateNorms(m, first.questions);
console.log(`residual norms per layer: ${[...norms].map((n) => n.toFixed(1)).join(' ')}`);

type Cell = ReturnType<typeof markerStats> & { eos: number };
// A cell: the marker score (or mean words) and, in brackets, the share of replies that ended with EOS:
// replies that loop or break off run to the token limit, so a falling share means broken text.
const fmt = (s: Cell, words: boolean) => `${words ? `${s.meanWords.toFixed(1)}w` : s.score.toFixed(1)} (${Math.round(100 * s.eos)}%)`;
const header = ['set', 'no system', 'system +', 'system −', ...alphas.map((a) => `α ${a}`)];
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const name of names) {
  const set = demoPromptSet(name);
  const markers = { positive: set.markers?.positive ?? [], negative: set.markers?.negative ?? [] };
  const byLength = markers.positive.length === 0 || name.startsWith('verbose');
  const qs = set.heldout.questions;
  const rows = (system: string[] | null, steering?: ReplyRow['steering']): ReplyRow[] =>
    Array.from({ length: samples }, (_, i) => ({
      system: system ? system[i % system.length] : undefined,
      question: qs[i % qs.length]!,
      seed: 500 + i,
      steering,
    }));
  const stat = async (r: ReplyRow[]): Promise<Cell> => {
    const out = await sampleReplies(m, r, { residualNorms: norms });
    return {
      ...markerStats(
        out.map((x) => x.text),
        markers,
      ),
      eos: out.filter((x) => x.finish === 'eos').length / out.length,
    };
  };
  const none = await stat(rows(null));
  const pos = await stat(rows(set.heldout.positive));
  const neg = await stat(rows(set.heldout.negative));
  const dir = await directionFromSystemPrompts(m, set, 2);
  const steered = [];
  for (const a of alphas) steered.push(await stat(rows(null, steerAt(dir, layer, a))));
  console.log(
    `| ${[name, fmt(none, byLength), fmt(pos, byLength), fmt(neg, byLength), ...steered.map((s) => fmt(s, byLength))].join(' | ')} |`,
  );
}
console.log(
  `\ncells: marker score = (positive − negative markers) per 100 words, or "w" = mean words per reply; (%) = replies that ended with EOS. ${samples} replies per cell.`,
);
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
await m.model.release();
rmSync(root, { recursive: true, force: true });
