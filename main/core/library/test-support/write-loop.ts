// Child process for the crash test: writes personas with full vector sets in a loop and prints
// "<id> <i>" after each commit, until killed.
import { Library } from '../library.ts';
import { sampleSet } from '../../formats/test-support/sample.ts';

const dataDir = process.argv[2]!;
const lib = Library.open({ dataDir, appVersion: 'crash-test' });
const model =
  lib.models.list()[0] ??
  lib.models.add({ name: 'crash', source: 'x/crash', sourceKind: 'hub', architecture: 'qwen3', hiddenSize: 1024, numLayers: 28 });
const layers = Array.from({ length: 28 }, (_, b) => b);
for (let i = 0; ; i++) {
  const { persona } = lib.createPersonaWithVectors(
    { name: `p${i} "🙂"\n'; --`, tags: ['crash'] },
    model.id,
    sampleSet({ hidden: 1024, numLayers: 28, layers, seed: i + 1 }),
  );
  process.stdout.write(`${persona.id} ${i}\n`);
}
