// The engine worker thread: serves the engine contract (engine-service.ts) to the host over the
// thread's message port. The host's event loop never waits on the model.
import { parentPort } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { engineContract } from './protocol.ts';
import { createServer } from '../rpc/server.ts';
import { createEngineService } from './engine-service.ts';

if (!parentPort) throw new Error('engine worker: must run inside a worker thread');

setFlagsFromString('--expose-gc');
const port = parentPort;
const service = createEngineService(runInNewContext('gc') as () => void);
const server = createServer(engineContract, service.handlers, {
  name: 'engine',
  send: (message) => port.postMessage(message),
  schedule: service.schedule,
});
port.on('message', (raw: unknown) => server.receive(raw));
