// Child process for long-prompt.test.ts: loads a compiled model through the Engine (onnxruntime in
// its worker thread) while this process's command line carries whatever long arguments follow the
// model folder, as a `--prompt` does. Prints the provider and exits 0 if the load survives.
import { Engine } from '../engine.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: load-with-long-argv.ts COMPILED_DIR [ANYTHING...]');
const engine = new Engine();
try {
  const status = await engine.load(dir);
  process.stdout.write(`loaded on ${status.provider}\n`);
} finally {
  await engine.close();
}
