// A studio process to kill mid-job (jobs.test.ts): opens the app service on argv[2]'s data dir, runs
// personas.train with argv[3]'s args and prints each progress event as a JSON line, so the test can
// SIGKILL it after a batch is checkpointed and the job row is left 'running', as a crash leaves it.
import { createAppService } from '../../app-service.ts';
import { appContract } from '../../../../preload/contract.ts';

const [dataDir, argsJson] = process.argv.slice(2);
const service = createAppService({ dataDir: dataDir!, threads: 1, jobThrottleMs: 0 });
const args = appContract['personas.train'].args.parse(JSON.parse(argsJson!));
await service.handlers['personas.train'](args, {
  id: 1,
  signal: new AbortController().signal,
  emit: (event, p) => process.stdout.write(`${JSON.stringify({ event, ...p })}\n`),
});
process.stdout.write('finished\n');
await service.close();
