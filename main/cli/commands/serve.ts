// persona-studio serve [--port N] [--host H] [--static DIR]: browser mode (main/server/README.md).
import { createAppService } from '../../core/app-service.ts';
import { rendererBuildPath } from '../../core/package-root.ts';
import { startStudioServer } from '../../server/server.ts';
import type { Flags } from '../args.ts';
import type { SERVE_FLAGS } from '../specs.ts';
import type { CliContext } from '../context.ts';

export async function serveCommand(flags: Flags<typeof SERVE_FLAGS>, ctx: CliContext): Promise<number> {
  const service = createAppService({ dataDir: ctx.dataDir, threads: flags.threads });
  let server;
  try {
    server = await startStudioServer({
      handlers: service.handlers,
      port: flags.port ?? 0,
      host: flags.host,
      allowNonLoopback: flags.host !== undefined,
      staticDir: flags.static ?? rendererBuildPath(),
      log: (line) => ctx.stderr(`${line}\n`),
    });
  } catch (e) {
    await service.close();
    throw e;
  }
  ctx.stdout(`Persona Studio (browser mode) at ${server.url}\n`);
  ctx.stderr(`data dir ${ctx.dataDir}; Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await service.close();
  return 0;
}
