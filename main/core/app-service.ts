// The app contract (preload/contract.ts) implemented on the core services: one library, opened for
// the service's life, and one Engine in its worker thread (the UI's event loop stays free). Browser
// mode (main/server/) serves these handlers over a WebSocket; Electron main will serve the same map
// over IPC. The map is typed Handlers<AppContract>, so an operation without a handler fails to compile.
import { Library } from './library/index.ts';
import { Engine } from './engine/engine.ts';
import { compileAndRegister } from './models.ts';
import { resolveModel } from './model-ref.ts';
import { StudioError } from './errors.ts';
import { buildSteering, type SteeringFlags } from './steering/persona-steering.ts';
import { ensureNorms } from './steering/calibration.ts';
import { resolvePromptSet, trainIntoLibrary } from './authoring/train-into-library.ts';
import { TextTokenizer } from '../../native-models/tokenizer/tokenizer.ts';
import type { ArgsOutput, Handlers } from './rpc/contract.ts';
import { appContract, type AppContract } from '../../preload/contract.ts';
import type { Persona } from './library/schema.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { SettingsStore, resolveJudgeKey } from './settings/settings-store.ts';
import { fileSecretStore, JUDGE_KEY_SECRET, type SecretStore } from './settings/secret-store.ts';
import { JUDGE_KEY_ENV } from './evaluation/judge.ts';
import { appInfo } from './app-info.ts';
import { downloadModel } from '../../native-models/hub/download.ts';
import { cachedSnapshot, checkRepoId, checkRevision } from '../../native-models/hub/cache.ts';

export interface AppServiceOptions {
  dataDir: string;
  /** Intra-op threads for the engine (0: onnxruntime's choice); default: the settings' threads. */
  threads?: number;
  /** Where secrets (the judge key) are kept; default: a 0600 file in the data dir. Electron passes its safeStorage store. */
  secrets?: SecretStore;
  /** The data dir location file the settings write (default: main/core/data-dir.ts's); tests pass a temp path. */
  dataDirLocationFile?: string;
  /** Least time between two progress writes of one job (default 500 ms). */
  jobThrottleMs?: number;
}

export interface AppService {
  handlers: Handlers<AppContract>;
  close(): Promise<void>;
}

type Steering = NonNullable<ArgsOutput<AppContract, 'generate'>['steering']>;

export function createAppService(opts: AppServiceOptions): AppService {
  const { dataDir } = opts;
  const lib = Library.open({ dataDir });
  const engine = new Engine(); // a worker: the server is long-lived and its event loop serves sockets
  const settings = new SettingsStore(dataDir, opts.dataDirLocationFile);
  const secrets = opts.secrets ?? fileSecretStore(dataDir);
  const jobs = new JobRunner(appContract, lib, { throttleMs: opts.jobThrottleMs });
  jobs.recover(); // jobs a previous process left running: interrupted, resumable
  /** The loaded model folder and the session settings it was loaded with (a settings change reloads it). */
  let loadedKey: string | null = null;
  /**
   * Engine work runs one call at a time: a call loads the model it names (when another is loaded)
   * and keeps it for its whole run, so two clients on different models cannot swap it under each other.
   */
  let turn: Promise<unknown> = Promise.resolve();
  function withEngine<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const run = turn.then(() => {
      if (signal.aborted) throw new StudioError('cancelled', 'cancelled before it started');
      return work();
    });
    turn = run.catch(() => {});
    return run;
  }
  async function load(dir: string) {
    const s = settings.get();
    const session = { threads: opts.threads ?? s.threads, provider: s.provider };
    const key = JSON.stringify([dir, session]);
    if (loadedKey !== key) {
      loadedKey = null;
      await engine.load(dir, session);
      loadedKey = key;
    }
    return (await engine.status())!;
  }

  /** A persona by id or exact name (the CLI's rule); trash included, so restore can find it. */
  function persona(ref: string): Persona {
    return lib.personas.resolve(ref, { deleted: 'include', prefix: 'persona: ' });
  }

  /** Resolves the model (compiling on first use), loads it, and builds the steering (α per persona). */
  async function prepare(model: string, steering: Steering | undefined, alphaOverride?: number) {
    const resolved = await resolveModel(lib, dataDir, model, { compile: true, label: 'model' });
    const dir = resolved.dir!;
    const wants = !!steering && (steering.personas.length > 0 || steering.ablate.length > 0);
    if (wants && !resolved.record)
      throw new StudioError('not-found', `model ${model}: steering needs the model in the library (compile its checkpoint first)`);
    // Each persona as `ref=α`: parsePersonaArg splits at the last '=' before a number, so a name is never cut.
    const flags: SteeringFlags | null = wants
      ? {
          personas: steering.personas.map((p) => `${p.persona}=${p.alpha}`),
          layers: steering.layers,
          alphaMode: steering.alphaMode,
          ablate: steering.ablate,
        }
      : null;
    const built = flags ? buildSteering(lib, resolved.record!, flags, alphaOverride) : null;
    const status = await load(dir);
    const residualNorms =
      built && steering!.alphaMode === 'norm'
        ? await ensureNorms(dir, resolved.record!.numLayers, TextTokenizer.load(dir), (sequences) => engine.residualNorms({ sequences }))
        : null;
    return { status, built, residualNorms, flags, record: resolved.record };
  }

  const promptOf = (a: { prompt: string; system?: string; raw: boolean }) =>
    a.raw
      ? { text: a.prompt }
      : { messages: [...(a.system ? [{ role: 'system' as const, content: a.system }] : []), { role: 'user' as const, content: a.prompt }] };

  const handlers: Handlers<AppContract> = {
    'models.list': () =>
      lib.models.list().map((m) => ({
        ...m,
        variants: lib.models.variants(m.id).map(({ id, label, path, precision, createdAt }) => ({ id, label, path, precision, createdAt })),
      })),
    'models.compile': jobs.op('models.compile', async (a, ctx) => {
      const r = await compileAndRegister(lib, dataDir, {
        checkpointDir: a.checkpointDir,
        options: { precision: a.precision, provider: a.provider },
        onProgress: (p) => ctx.emit('progress', { stage: p.stage, done: p.done, total: p.total }),
      });
      return {
        modelId: r.model.id,
        name: r.model.name,
        dir: r.dir,
        cached: r.cached,
        numLayers: r.model.numLayers,
        hiddenSize: r.model.hiddenSize,
      };
    }),
    'models.status': async () => {
      const s = await engine.status();
      return (
        s && { dir: s.dir, provider: s.provider, providerReason: s.providerReason, precision: s.precision, hasTokenizer: s.hasTokenizer }
      );
    },

    'personas.list': async (a) => {
      const model = a.model ? (await resolveModel(lib, dataDir, a.model, { compile: false, label: 'model' })).record?.id : undefined;
      if (a.model && !model) throw new StudioError('not-found', `model ${a.model}: this compiled model is not in the library`);
      return lib.personas.list({ search: a.search, tag: a.tag, modelId: model, deleted: a.trash ? 'only' : 'exclude' });
    },
    'personas.show': (a) => {
      const p = persona(a.persona);
      return { persona: p, vectors: lib.vectors.list({ personaId: p.id }) };
    },
    'personas.rename': (a) => lib.personas.rename(persona(a.persona).id, a.name),
    'personas.delete': (a) => {
      lib.personas.delete(persona(a.persona).id);
      return null;
    },
    'personas.restore': (a) => {
      lib.personas.restore(persona(a.persona).id);
      return null;
    },
    'personas.import': (a) => {
      const r = lib.importPersona(a.file, { model: a.model, format: a.format, name: a.name, layerShift: a.layerShift });
      return { persona: r.persona, format: r.format, warnings: r.warnings };
    },
    'personas.export': (a) => {
      if (!a.path && !a.dir) throw new StudioError('usage', 'personas.export: give path or dir (a file or folder on the server)');
      return lib.exportPersona(persona(a.persona).id, { format: a.format, path: a.path, dir: a.dir, layer: a.layer });
    },
    'personas.train': jobs.op('personas.train', (a, ctx) => {
      const set = resolvePromptSet(lib, a.promptSet, 'promptSet');
      return withEngine(ctx.signal, async () => {
        const {
          persona: p,
          vector,
          trained: t,
        } = await trainIntoLibrary(
          lib,
          dataDir,
          {
            load,
            generate: (r, o) => engine.generate(r, o),
            capture: (c, o) => engine.capture(c, o),
          },
          {
            model: a.model,
            label: 'model',
            name: a.name,
            set,
            settings: a.settings,
            signal: ctx.signal,
            onProgress: (p) => ctx.emit('progress', p),
            onCompileProgress: (done, total) => ctx.emit('progress', { stage: 'compile', done, total }),
          },
        );
        return {
          persona: p,
          vectorId: vector.id,
          resumedBatches: t.resumedBatches,
          counts: { positive: t.counts.positive, negative: t.counts.negative },
          separationOn: t.separationOn,
          layers: t.layers.map((l) => ({ layer: l.layer, auc: l.separation.auc ?? null, cohenD: l.separation.cohenD ?? null })),
        };
      });
    }),

    'promptSets.list': () => lib.promptSets.list(),
    'promptSets.show': (a) => {
      const set = lib.promptSets.find(a.promptSet);
      if (!set) throw new StudioError('not-found', `promptSet ${JSON.stringify(a.promptSet)}: no library prompt set has that name or id`);
      return { promptSet: set, version: lib.promptSets.version(set.id, a.version) };
    },

    generate: (a, ctx) =>
      withEngine(ctx.signal, async () => {
        const p = await prepare(a.model, a.steering);
        const r = await engine.generate(
          {
            rows: [{ prompt: promptOf(a), sampling: a.sampling, steering: p.built?.steering }],
            maxNewTokens: a.maxNewTokens,
            residualNorms: p.residualNorms,
          },
          { signal: ctx.signal, onToken: (e) => ctx.emit('token', { row: e.row, index: e.index, text: e.text }) },
        );
        const row = r.rows[0]!;
        return {
          text: row.text,
          tokens: row.tokens.length,
          finish: row.finish,
          seed: row.seed,
          steering: p.built?.summary ?? [],
          prefillMs: r.prefillMs,
          decodeMs: r.decodeMs,
        };
      }),
    compare: (a, ctx) =>
      withEngine(ctx.signal, async () => {
        if (!a.steering.personas.length) throw new StudioError('usage', 'compare: steering.personas is empty (compare varies their α)');
        const p = await prepare(a.model, a.steering);
        const sampling = { ...a.sampling, seed: a.sampling.seed ?? 1 };
        // One batched run: each column is the same steering with every persona's α replaced.
        const rows = a.alphas.map((alpha) => ({
          prompt: promptOf(a),
          sampling,
          steering: { ...p.built!.steering, terms: (p.built!.steering.terms ?? []).map((t) => ({ ...t, alpha })) },
        }));
        const r = await engine.generate(
          { rows, maxNewTokens: a.maxNewTokens, residualNorms: p.residualNorms },
          { signal: ctx.signal, onToken: (e) => ctx.emit('token', { row: e.row, index: e.index, text: e.text }) },
        );
        return {
          seed: sampling.seed,
          steering: p.built!.summary,
          columns: a.alphas.map((alpha, i) => ({ alpha, text: r.rows[i]!.text, finish: r.rows[i]!.finish })),
        };
      }),

    // ---- jobs: jobs, settings, app ops ----
    'jobs.list': (a) => jobs.list({ status: a.status, kind: a.kind, limit: a.limit }),
    'jobs.cancel': (a) => jobs.cancel(a.id),
    'jobs.resume': (a, ctx) => jobs.resume(a.id, ctx),
    'jobs.watch': (a, ctx) =>
      new Promise<null>((resolve) => {
        ctx.emit('snapshot', { jobs: jobs.list({ limit: a.limit }) });
        const stop = jobs.subscribe((job) => ctx.emit('job', job));
        const end = () => {
          stop();
          resolve(null);
        };
        if (ctx.signal.aborted) end();
        else ctx.signal.addEventListener('abort', end, { once: true });
      }),
    'settings.get': () => settingsView(),
    'settings.set': (a) => {
      settings.set(a);
      return settingsView();
    },
    'settings.setJudgeKey': (a) => {
      secrets.set(JUDGE_KEY_SECRET, a.key);
      return settingsView();
    },
    'settings.clearJudgeKey': () => {
      secrets.delete(JUDGE_KEY_SECRET);
      return settingsView();
    },
    'app.info': (a) => appInfo(dataDir, { probeHub: a.probeHub, provider: settings.get().provider }),
    'models.download': jobs.op('models.download', async (a, ctx) => {
      const repo = checkRepoId(a.repo, 'repo');
      const revision = checkRevision(a.revision ?? 'main');
      const snap =
        cachedSnapshot(repo, revision) ??
        (await downloadModel({
          repo,
          revision,
          signal: ctx.signal,
          onProgress: (p) =>
            ctx.emit('progress', {
              stage: 'download',
              done: p.bytesDone,
              total: p.bytesTotal,
              etaMs: p.etaSeconds === null ? null : p.etaSeconds * 1000,
            }),
        }));
      const r = await compileAndRegister(
        lib,
        dataDir,
        {
          checkpointDir: snap.dir,
          options: {},
          signal: ctx.signal,
          onProgress: (p) => ctx.emit('progress', { stage: 'compile', done: p.done, total: p.total }),
        },
        { name: repo, source: `${repo}@${snap.commit}`, sourceKind: 'hub' },
      );
      return { modelId: r.model.id, name: r.model.name, dir: r.dir };
    }),
  };

  /** The settings as the renderer may see them: the judge key only as set / not set. */
  function settingsView() {
    return {
      settings: settings.get(),
      dataDirInUse: dataDir,
      judgeKey: resolveJudgeKey(secrets, {}) ? ('set' as const) : ('not set' as const),
      judgeKeyFromEnv: !!process.env[JUDGE_KEY_ENV],
      secretStore: secrets.kind,
    };
  }

  return {
    handlers,
    async close() {
      await engine.close();
      lib.close();
    },
  };
}
