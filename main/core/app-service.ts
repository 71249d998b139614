// The app contract (preload/contract.ts) implemented on the core services: one library, opened for
// the service's life, and one Engine in its worker thread (the UI's event loop stays free). Browser
// mode (main/server/) serves these handlers over a WebSocket; Electron main will serve the same map
// over IPC. The map is typed Handlers<AppContract>, so an operation without a handler fails to compile.
import { Library } from './library/index.ts';
import { Engine } from './engine/engine.ts';
import { compileAndRegister } from './models.ts';
import { resolveModel } from './model-ref.ts';
import { StudioError, fromZod } from './errors.ts';
import { buildSteering, monitorOf, type SteeringFlags } from './steering/persona-steering.ts';
import { ensureNorms } from './steering/calibration.ts';
import { resolvePromptSet, trainIntoLibrary } from './authoring/train-into-library.ts';
import { TextTokenizer } from '../../native-models/tokenizer/tokenizer.ts';
import type { ArgsOutput, Handlers, ResultInput } from './rpc/contract.ts';
import { appContract, savedComparisonSchema, sweepSchema, type AppContract } from '../../preload/contract.ts';
import { runPersonaSweep } from './evaluation/persona-sweep.ts';
import { SWEEP_KIND, saveSweepChoice, storedRecommendation } from './evaluation/sweep-store.ts';
import type { Evaluation, Persona } from './library/schema.ts';
// ---- ui-a: authoring ops (imports) ----
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { freemem, homedir, totalmem } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { assetPath } from './package-root.ts';
import { compiledModelsDir } from './data-dir.ts';
import { diskUsage, listFolder } from './server-files.ts';
import { lineageSchema as coreLineageSchema } from './library/schema.ts';
import { trainSettingsSchema } from './authoring/train-persona.ts';
import { parsePromptSetFile, readPromptSetFile, PROMPT_SET_FORMAT, PROMPT_SET_VERSION } from './authoring/prompt-set-file.ts';
import { readPromptList } from './authoring/prompt-lists.ts';
import { promptSetFromVersion, promptSetToItems } from './authoring/prompt-set-library.ts';
import { checkDescription, fromTemplate, promptSetFromDescription } from './authoring/from-description.ts';
import { isCompiledModel } from '../../native-models/compile.ts';
import { EVAL_KIND, evaluatePersona, evaluationEngine } from './evaluation/evaluate.ts';
import { evalReportHtml, evalReportJson } from './evaluation/eval-report.ts';
import { reportKind, writeReport, type PdfPrinter } from './evaluation/report-file.ts';
import { storedEvalReport } from './evaluation/eval-store.ts';
import { findChromium } from './evaluation/report-pdf.ts';
import { dirname } from 'node:path';
// ---- jobs (imports) ----
import { JobRunner } from './jobs/job-runner.ts';
import { SettingsStore, resolveHubToken, resolveJudgeKey } from './settings/settings-store.ts';
import { fileSecretStore, HUB_TOKEN_SECRET, JUDGE_KEY_SECRET, type SecretStore } from './settings/secret-store.ts';
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
  /** Prints reports to PDF (Electron: webContents.printToPDF); default: a headless Chromium, if one is installed. */
  printPdf?: PdfPrinter;
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

type SavedComparison = ResultInput<AppContract, 'compare.save'>;
type SweepView = ResultInput<AppContract, 'sweep.get'>;

/** A chat reply that chat.steer may re-steer: its model, the steering asked for, and the cut of its running generate(). */
interface LiveChat {
  model: string;
  next: Steering | null;
  cut: AbortController | null;
}

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

  /** Resolves the model (compiling on first use) and builds the steering (α per persona); loads nothing. */
  async function prepareSteering(model: string, steering: Steering | undefined, alphaOverride?: number) {
    const resolved = await resolveModel(lib, dataDir, model, { compile: true, label: 'model' });
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
    return { dir: resolved.dir!, record: resolved.record, flags, built };
  }

  /** prepareSteering, then loads the model and the residual norms the `norm` α scale needs. */
  async function prepare(model: string, steering: Steering | undefined, alphaOverride?: number) {
    const { dir, record, flags, built } = await prepareSteering(model, steering, alphaOverride);
    const status = await load(dir);
    const residualNorms =
      built && steering!.alphaMode === 'norm'
        ? await ensureNorms(dir, record!.numLayers, TextTokenizer.load(dir), (sequences) => engine.residualNorms({ sequences }))
        : null;
    return { status, built, residualNorms, flags, record };
  }

  /** A stored sweep as the contract shows it (summary: no cells or samples). */
  function sweepSummary(e: Evaluation) {
    if (e.kind !== SWEEP_KIND || !e.personaId || !e.vectorId || !e.modelId)
      throw new StudioError('not-found', `sweep ${e.id}: this evaluation is not a stored sweep`);
    const metrics = e.metrics as { recommendation?: unknown };
    const grid = e.grid as { layers?: unknown; alphas?: unknown };
    const inUse = storedRecommendation(lib, e.personaId, e.vectorId);
    return {
      id: e.id,
      name: e.name,
      personaId: e.personaId,
      vectorId: e.vectorId,
      modelId: e.modelId,
      createdAt: e.createdAt,
      layers: grid.layers as number[],
      alphas: grid.alphas as number[],
      recommendation: metrics.recommendation as SweepView['recommendation'],
      inUse: inUse && { layer: inUse.layer, alpha: inUse.alpha, evaluationId: inUse.evaluationId },
    };
  }
  /** A stored sweep with its cells and samples, checked against the contract (a row written otherwise fails in one line). */
  function sweepView(evaluationId: string): SweepView {
    const e = lib.evaluations.get(evaluationId);
    if (!e) throw new StudioError('not-found', `sweep ${JSON.stringify(evaluationId)}: no stored sweep has that id`);
    const metrics = e.metrics as { baseline?: { perplexity?: unknown; markerScore?: unknown }; cells?: unknown };
    const settings = e.settings as { provenance?: { questionsFrom?: unknown } };
    const view = sweepSchema.safeParse({
      ...sweepSummary(e),
      baseline: { perplexity: metrics.baseline?.perplexity ?? null, markerScore: metrics.baseline?.markerScore ?? null },
      cells: metrics.cells,
      samples: lib.evaluations.samples(e.id).map((s) => ({
        layer: s.layer,
        alpha: s.alpha ?? 0,
        question: s.prompt,
        seed: s.scores.seed ?? 0,
        text: s.output,
      })),
      questionsFrom: typeof settings.provenance?.questionsFrom === 'string' ? settings.provenance.questionsFrom : '',
    });
    if (!view.success) throw fromZod('internal', view.error, `sweep ${e.id}`);
    return view.data;
  }

  /** Running chat replies by stream name, so chat.steer can reach them. */
  const liveChats = new Map<string, LiveChat>();

  const promptOf = (a: { prompt: string; system?: string; raw: boolean }) =>
    a.raw
      ? { text: a.prompt }
      : { messages: [...(a.system ? [{ role: 'system' as const, content: a.system }] : []), { role: 'user' as const, content: a.prompt }] };

  // ---- ui-a: authoring helpers ----
  /** Live personas with live vectors for a library model. */
  function personasUsing(modelId: string): number {
    return new Set(
      lib.vectors
        .list({ modelId })
        .map((v) => v.personaId)
        .filter((id) => !lib.personas.get(id)?.deletedAt),
    ).size;
  }
  /** Deletes a compiled folder when it lies in the data dir's cache (never a folder the user compiled elsewhere). */
  function removeVariantFiles(path: string): number {
    const rel = relative(compiledModelsDir(dataDir), path);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return 0;
    const bytes = diskUsage(path);
    if (loadedKey !== null && (JSON.parse(loadedKey) as unknown[])[0] === path) loadedKey = null; // the next call loads (or recompiles) it afresh
    rmSync(path, { recursive: true, force: true });
    return bytes;
  }

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
        signal: ctx.signal,
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

    // ---- ui-a: authoring ops ----
    'files.places': () => {
      const at = (...p: string[]) => {
        try {
          const path = assetPath(...p);
          return existsSync(path) ? path : null;
        } catch {
          return null; // running outside the studio's folder: nothing shipped to offer
        }
      };
      return { dataDir, home: homedir(), demoModel: at('demo-model'), promptSets: at('prompt-sets') };
    },
    'files.list': (a) => listFolder(a.dir),
    'models.disk': () => {
      const variants = lib.models
        .list()
        .flatMap((m) =>
          lib.models
            .variants(m.id)
            .map((v) => ({ variantId: v.id, modelId: m.id, path: v.path, bytes: diskUsage(v.path), exists: existsSync(v.path) })),
        );
      return { totalBytes: variants.reduce((n, v) => n + v.bytes, 0), variants };
    },
    'models.removeVariant': (a) => {
      const found = lib.models
        .list()
        .flatMap((m) => lib.models.variants(m.id).map((v) => ({ m, v })))
        .find(({ v }) => v.id === a.variant);
      if (!found) throw new StudioError('not-found', `variant ${a.variant}: no compiled variant of a library model has that id`);
      const { m, v } = found;
      const users = personasUsing(m.id);
      const others = lib.models.variants(m.id).filter((o) => o.id !== v.id && isCompiledModel(o.path));
      const recompilable = m.sourceKind === 'hub' || (existsSync(m.source) && statSync(m.source).isDirectory());
      let warning: string | null = null;
      if (users > 0 && others.length === 0) {
        if (!recompilable)
          throw new StudioError(
            'conflict',
            `variant ${v.label} of ${m.name}: ${users} persona${users === 1 ? '' : 's'} use this model and its source ${m.source} is gone, so nothing could run them; remove those personas first`,
          );
        warning = `${users} persona${users === 1 ? '' : 's'} use ${m.name}: it compiles again from ${m.source} when next used`;
      }
      const removedBytes = removeVariantFiles(v.path);
      lib.models.removeVariant(v.id);
      return { removedBytes, warning };
    },
    'models.remove': (a) => {
      const m = lib.models.resolve(a.model);
      lib.models.delete(m.id); // refuses (one line, with the count) while personas have vectors for it
      let removedBytes = 0;
      for (const v of lib.models.variants(m.id)) {
        removedBytes += removeVariantFiles(v.path);
        lib.models.removeVariant(v.id);
      }
      return { removedBytes };
    },
    'personas.tags': () => lib.personas.tags(),
    'personas.update': (a) => {
      const { persona: ref, ...patch } = a;
      return lib.personas.update(persona(ref).id, patch);
    },
    'personas.duplicate': (a) => lib.duplicatePersona(persona(a.persona).id, a.name),
    'personas.combine': async (a) => {
      const first = persona(a.terms[0]!.persona);
      const modelId = a.model
        ? (await resolveModel(lib, dataDir, a.model, { compile: false, label: 'model' })).record?.id
        : lib.vectors.latest(first.id)?.libraryModelId;
      if (!modelId)
        throw new StudioError(
          'not-found',
          a.model ? `model ${a.model}: not in the library` : `persona ${first.name}: has no vectors to combine`,
        );
      const terms = a.terms.map((t, i) => {
        const p = persona(t.persona);
        const v = lib.vectors.latest(p.id, modelId);
        if (!v)
          throw new StudioError('not-found', `terms[${i}].persona ${p.name}: has no vectors for model ${lib.models.require(modelId).name}`);
        return { vectorId: v.id, coef: t.coef };
      });
      const r = lib.combine({ name: a.name, description: '', notes: '', tags: [] }, terms);
      return { persona: r.persona, vectorId: r.vector.id, lineage: r.vector.provenance.lineage! };
    },
    'personas.lineage': (a) =>
      lib.vectors.list({ personaId: persona(a.persona).id }).map((s) => {
        const lineage = coreLineageSchema.safeParse(lib.vectors.require(s.id).provenance.lineage);
        return { vectorId: s.id, libraryModelId: s.libraryModelId, method: s.method, lineage: lineage.success ? lineage.data : null };
      }),
    'personas.trainDefaults': () => {
      const defaults = trainSettingsSchema.parse({}) as Record<string, string | number>;
      const docs = Object.fromEntries(Object.entries(trainSettingsSchema.shape).map(([k, v]) => [k, v.description ?? '']));
      return { defaults, docs };
    },
    'promptSets.shipped': () => {
      let dir: string;
      try {
        dir = assetPath('prompt-sets');
      } catch {
        return [];
      }
      if (!existsSync(dir)) return [];
      return readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => {
          const set = readPromptSetFile(join(dir, f));
          return {
            file: join(dir, f),
            name: set.name,
            description: set.description,
            kind: set.kind,
            positive: set.positive.length,
            negative: set.negative.length,
          };
        });
    },
    'promptSets.document': (a) => {
      const set = lib.promptSets.find(a.promptSet);
      if (!set) throw new StudioError('not-found', `promptSet ${JSON.stringify(a.promptSet)}: no library prompt set has that name or id`);
      return promptSetFromVersion(set.name, set.description, lib.promptSets.version(set.id, a.version));
    },
    'promptSets.readFile': (a) => readPromptSetFile(a.file),
    'prompts.readList': (a) => ({ prompts: readPromptList(a.file) }),
    'promptSets.fromDescription': (a, ctx) => {
      const description = checkDescription(a.description);
      return withEngine(ctx.signal, async () => {
        const resolved = await resolveModel(lib, dataDir, a.model, {
          compile: true,
          label: 'model',
          signal: ctx.signal,
          onCompileProgress: (done, total) => ctx.emit('progress', { stage: 'compile', done, total }),
        });
        const status = await load(resolved.dir!);
        const attempts = 3;
        let tried = 0;
        const r = status.hasTokenizer
          ? await promptSetFromDescription(
              async (prompt, seed) => {
                ctx.emit('progress', { stage: 'generate', done: tried, total: attempts });
                // room for the answer: up to 1024 tokens, within the model's context after the meta-prompt (as the CLI)
                const maxNewTokens = Math.max(64, Math.min(1024, (status.architecture.maxPositions as number) - 400));
                const out = await engine.generate(
                  {
                    rows: [{ prompt: { messages: [{ role: 'user', content: prompt }] }, sampling: { temperature: 0.7, topP: 0.9, seed } }],
                    maxNewTokens,
                  },
                  { signal: ctx.signal },
                );
                tried++;
                return out.rows[0]!.text;
              },
              { name: a.name, description, numPrompts: a.numPrompts, attempts },
            )
          : null;
        if (!r) {
          return {
            set: fromTemplate(a.name, description),
            source: 'template' as const,
            refusals: [],
            why: 'the model has no tokenizer, so it cannot write prompts; our template was used',
          };
        }
        const why =
          r.source === 'model'
            ? `the loaded model wrote it (attempt ${r.refusals.length + 1} of ${attempts})`
            : `our template was used: none of the model's ${attempts} answers was a usable prompt set (${r.refusals.at(-1) ?? ''})`;
        return { set: r.set, source: r.source, refusals: r.refusals, why };
      });
    },
    'promptSets.save': (a) => {
      const set = parsePromptSetFile({ format: PROMPT_SET_FORMAT, version: PROMPT_SET_VERSION, ...a.set }, 'set');
      const { items, spec } = promptSetToItems(set);
      const r = lib.promptSets.save(set.name, set.description, items, spec, a.note);
      return { promptSet: r.set, version: r.version.version, added: r.added };
    },
    // ---- end ui-a ----
    // ---- eval: evaluation ops ----
    'eval.run': jobs.op('eval.run', (a, ctx) => {
      if (a.report) reportKind(a.report, 'report');
      return withEngine(ctx.signal, async () => {
        const out = await evaluatePersona(lib, dataDir, evaluationEngine(engine, load), {
          model: a.model,
          persona: a.persona,
          questions: a.questions,
          promptSet: a.promptSet,
          judge: a.judge,
          // The endpoint judge's key: PERSONA_STUDIO_JUDGE_KEY, else the one stored in the settings (as the CLI).
          judgeKey: a.judge?.kind === 'endpoint' ? resolveJudgeKey(secrets) : undefined,
          settings: a.settings,
          labels: { model: 'model', persona: 'persona', questions: 'questions', promptSet: 'promptSet', layer: 'settings.layer' },
          signal: ctx.signal,
          onProgress: (p) => ctx.emit('progress', p),
          onCompileProgress: (done, total) => ctx.emit('progress', { stage: 'compile', done, total }),
        });
        const rep = out.report;
        const reportFile = a.report
          ? await writeReport(
              a.report,
              { html: () => evalReportHtml(rep), json: () => evalReportJson(rep) },
              { label: 'report', signal: ctx.signal, printPdf: opts.printPdf },
            )
          : null;
        // NaN/Infinity (an all-empty column's perplexity) are not JSON: null on the wire.
        const report = JSON.parse(
          JSON.stringify(rep, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
        ) as typeof rep;
        return { evaluationId: out.evaluationId, resumedBatches: out.resumedBatches, report, reportFile };
      });
    }),
    'eval.list': async (a) => {
      const model = a.model ? (await resolveModel(lib, dataDir, a.model, { compile: false, label: 'model' })).record?.id : undefined;
      if (a.model && !model) throw new StudioError('not-found', `model ${a.model}: this compiled model is not in the library`);
      return lib.evaluations
        .list({ personaId: a.persona ? persona(a.persona).id : undefined, modelId: model })
        .filter((e) => e.kind === EVAL_KIND)
        .map((e) => {
          const rep = storedEvalReport(lib, e.id);
          return {
            id: e.id,
            name: e.name,
            createdAt: e.createdAt,
            layer: rep.steeredAt.layer,
            alpha: rep.steeredAt.alpha,
            source: rep.steeredAt.source,
            questions: rep.questions.length,
          };
        });
    },
    'eval.get': (a) => ({ evaluationId: a.evaluation, report: storedEvalReport(lib, a.evaluation) }),
    'eval.export': async (a, ctx) => {
      reportKind(a.path, 'path');
      if (!isAbsolute(a.path)) throw new StudioError('usage', `path ${JSON.stringify(a.path)}: must be an absolute path on the server`);
      const folder = dirname(a.path);
      if (!existsSync(folder) || !statSync(folder).isDirectory())
        throw new StudioError('not-found', `path ${JSON.stringify(a.path)}: the folder ${folder} does not exist`);
      // A PDF asked for without Chromium writes the .html beside it instead: that is the file that must be free.
      const target = /\.pdf$/i.test(a.path) && !opts.printPdf && !findChromium() ? a.path.replace(/\.pdf$/i, '.html') : a.path;
      if (!a.overwrite && existsSync(target))
        throw new StudioError('conflict', `path ${JSON.stringify(target)}: a file is already there (export with overwrite to replace it)`);
      const rep = storedEvalReport(lib, a.evaluation);
      return writeReport(
        a.path,
        { html: () => evalReportHtml(rep), json: () => evalReportJson(rep) },
        { label: 'path', signal: ctx.signal, printPdf: opts.printPdf },
      );
    },
    // ---- ui-b: steering ops ----
    chat: (a, ctx) =>
      withEngine(ctx.signal, async () => {
        // A live α change (chat.steer) cuts the running generate() and starts another that continues
        // the same reply from the text already streamed, prefilled under the new steering: the engine's
        // loop stays as it is, and the continuation is exactly what a fresh reply with that prefix and
        // that steering gives (tested). Costs one prefill of prompt + reply so far per change.
        const live: LiveChat = { model: a.model, next: null, cut: null };
        if (a.stream) {
          if (liveChats.has(a.stream))
            throw new StudioError('usage', `chat.stream ${JSON.stringify(a.stream)}: a reply with this stream is running`);
          liveChats.set(a.stream, live);
        }
        try {
          const turns = a.messages.filter((m) => m.role === 'assistant').length;
          const sampling = { ...a.sampling, seed: a.sampling.seed === undefined ? undefined : a.sampling.seed + turns };
          const messages = [...(a.system ? [{ role: 'system' as const, content: a.system }] : []), ...a.messages];
          let steering = a.steering;
          let shown = a.continueFrom; // the reply as the caller has it: what the next generate() continues
          const projections: number[] = [];
          const restyles: { index: number; steering: string[] }[] = [];
          let tokens = 0;
          let prefillMs = 0;
          let decodeMs = 0;
          let meterSent = false;
          for (;;) {
            if (live.next) {
              steering = live.next;
              live.next = null;
            }
            const p = await prepare(a.model, steering);
            if (live.next) continue; // changed again while preparing
            const monitor = monitorOf(p.built?.steering);
            if (monitor && !meterSent) {
              meterSent = true;
              const scale = p.residualNorms?.[monitor.layer] ?? null;
              ctx.emit('meter', { persona: steering!.personas[0]!.persona, layer: monitor.layer, scale });
            }
            if (tokens > 0) restyles.push({ index: tokens, steering: p.built?.summary ?? [] });
            if (tokens > 0) ctx.emit('restyle', restyles[restyles.length - 1]!);
            const cut = new AbortController();
            const onAbort = () => cut.abort();
            ctx.signal.addEventListener('abort', onAbort, { once: true });
            live.cut = cut;
            const base = tokens;
            let streamed = '';
            let r;
            try {
              r = await engine.generate(
                {
                  rows: [
                    {
                      prompt: { messages, assistantPrefix: shown || undefined },
                      sampling,
                      steering: p.built?.steering,
                      monitor,
                    },
                  ],
                  maxNewTokens: a.maxNewTokens - tokens,
                  residualNorms: p.residualNorms,
                },
                {
                  signal: cut.signal,
                  onToken: (e) => {
                    streamed += e.text;
                    ctx.emit('token', {
                      index: base + e.index,
                      text: e.text,
                      ...(e.projection === undefined ? {} : { projection: e.projection }),
                    });
                  },
                },
              );
            } finally {
              live.cut = null;
              ctx.signal.removeEventListener('abort', onAbort);
            }
            const row = r.rows[0]!;
            tokens += row.tokens.length;
            projections.push(...row.projections);
            prefillMs += r.prefillMs;
            decodeMs += r.decodeMs;
            const restart = row.finish === 'cancelled' && live.next !== null && !ctx.signal.aborted && tokens < a.maxNewTokens;
            // Cut: keep exactly what was streamed (text a decoder or stop-string matcher still held was never shown).
            shown += restart ? streamed : row.text;
            if (restart) continue;
            return {
              text: shown,
              tokens,
              finish: row.finish,
              seed: row.seed,
              steering: p.built?.summary ?? [],
              projections,
              restyles,
              prefillMs,
              decodeMs,
            };
          }
        } finally {
          if (a.stream) liveChats.delete(a.stream);
        }
      }),
    'compare.save': (a) => lib.comparisons.save({ name: a.name, config: a.config, results: a.results }) as SavedComparison,
    // Saved by compare.save, so they have its shape; a row written otherwise is left out, not an error.
    'compare.list': () =>
      lib.comparisons.list().flatMap((c) => {
        const ok = savedComparisonSchema.safeParse(c);
        return ok.success ? [ok.data] : [];
      }),
    'sweep.run': jobs.op('sweep.run', (a, ctx) =>
      withEngine(ctx.signal, async () => {
        const r = await runPersonaSweep(lib, dataDir, engine, load, {
          ...a,
          labels: { model: 'model', persona: 'persona', layers: 'layers', questions: 'questions', promptSet: 'promptSet' },
          signal: ctx.signal,
          onProgress: (p) => ctx.emit('progress', p),
          onCompileProgress: (done, total) => ctx.emit('progress', { stage: 'compile', done, total }),
        });
        return { sweep: sweepView(r.evaluationId), resumedBatches: r.result.resumedBatches };
      }),
    ),
    'sweep.list': async (a) => {
      const model = a.model ? (await resolveModel(lib, dataDir, a.model, { compile: false, label: 'model' })).record?.id : undefined;
      if (a.model && !model) throw new StudioError('not-found', `model ${a.model}: this compiled model is not in the library`);
      return lib.evaluations
        .list({ personaId: a.persona ? persona(a.persona).id : undefined, modelId: model })
        .filter((e) => e.kind === SWEEP_KIND)
        .map((e) => sweepSummary(e));
    },
    'sweep.get': (a) => sweepView(a.sweep),
    'sweep.use': (a) => {
      const choiceId = saveSweepChoice(lib, a.sweep, { layer: a.layer, alpha: a.alpha });
      return { choiceId, inUse: { layer: a.layer, alpha: a.alpha, evaluationId: choiceId } };
    },
    'chat.steer': async (a) => {
      const live = liveChats.get(a.stream);
      if (!live) return { applied: false };
      // Bad personas or layers fail here, on this call, and leave the running reply as it is.
      await prepareSteering(live.model, a.steering);
      live.next = a.steering;
      live.cut?.abort();
      return { applied: true };
    },
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
    'settings.setHubToken': (a) => {
      secrets.set(HUB_TOKEN_SECRET, a.token);
      return settingsView();
    },
    'settings.clearHubToken': () => {
      secrets.delete(HUB_TOKEN_SECRET);
      return settingsView();
    },
    // The engine runs in a worker thread of this process, so the process's resident size includes it.
    'app.memory': () => ({ processBytes: process.memoryUsage.rss(), machineTotalBytes: totalmem(), machineFreeBytes: freemem() }),
    'app.info': (a) => appInfo(dataDir, { probeHub: a.probeHub, provider: settings.get().provider }),
    'models.download': jobs.op('models.download', async (a, ctx) => {
      const repo = checkRepoId(a.repo, 'repo');
      const revision = checkRevision(a.revision ?? 'main');
      const snap =
        cachedSnapshot(repo, revision) ??
        (await downloadModel({
          repo,
          revision,
          // A token stored in Settings stands in for HF_TOKEN when the environment has none.
          env: { ...process.env, HF_TOKEN: resolveHubToken(secrets) ?? '' },
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
      hubToken: secrets.get(HUB_TOKEN_SECRET) ? ('set' as const) : ('not set' as const),
      hubTokenFromEnv: !!process.env.HF_TOKEN?.trim(),
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
