// The library service: one object the CLI, Electron main and browser mode all call. It owns the
// database connection and the data directory, and composes the stores with import/export,
// arithmetic, trash, backup/restore and archives.
import { closeSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import {
  defaultExportPath,
  exportVectors,
  fitToModel,
  FormatError,
  importVectors,
  type ExportOptions,
  type ExportResult,
  type VectorFormat,
} from '../formats/index.ts';
import { openRegularFile, readAt } from '../formats/file-io.ts';
import { mergeDatabase, readArchive, writeArchive, type ArchiveManifest } from './archive.ts';
import { BACKUP_DIR, LIBRARY_FILE, resolveDataDir } from './data-dir.ts';
import { libraryProblems, sqliteDetail, validateCandidate } from './candidate.ts';
import { integrityCheck, openLibraryDb, stamp } from './db.ts';
import { packageVersion } from '../package-root.ts';
import { sweepStaleTemp, tempName } from './temp-files.ts';
import { ModelsStore } from './models-store.ts';
import { PersonasStore } from './personas-store.ts';
import { PromptSetsStore } from './prompt-sets-store.ts';
import { ChatsStore, ComparisonsStore, EvaluationsStore } from './records-store.ts';
import { JobsStore } from './jobs-store.ts';
import { VectorsStore } from './vectors-store.ts';
import { combineLayers, orthogonalizeLayers } from '../steering/vector-math.ts';
import type { Lineage, Persona, PersonaInput, PersonaVectorSet, VectorRecord } from './schema.ts';
import { StudioError } from '../errors.ts';

export interface LibraryOptions {
  /** Explicit data directory (Electron's userData, --data-dir); else PERSONA_STUDIO_HOME, else the OS default. */
  dataDir?: string;
  /** Recorded in provenance and archives; defaults to package.json's version. */
  appVersion?: string;
}

export interface ImportPersonaOptions {
  /** Library model the vectors are for: id, name, hub id, path or content hash. */
  model: string;
  format?: VectorFormat;
  /** Added to each layer index read from the file (-1 for llama.cpp cvector-generator files). */
  layerShift?: number;
  /** Name for the new persona (default: from the file). */
  name?: string;
  /** Attach the vectors to this existing persona instead of creating one. */
  personaId?: string;
  tags?: string[];
}

export interface ExportPersonaOptions extends ExportOptions {
  format: VectorFormat;
  /** File to write (toolkit: the folder). Default: a name made from the persona in `dir`. */
  path?: string;
  dir?: string;
  /** Which vector: by id, else the newest for `model`, else the newest of any model. */
  vectorId?: string;
  model?: string;
}

export interface ArithmeticResult {
  persona: Persona;
  vector: VectorRecord;
}

export interface ImportPreview {
  format: VectorFormat;
  files: string[];
  persona: { name: string; description: string; tags: string[]; notes: string };
  hiddenSize: number;
  numLayers: number | null;
  modelHint: string | null;
  layers: { layer: number; norm: number }[];
  warnings: string[];
  /** Null when no model was given. */
  fit: { ok: boolean; error: string | null; warnings: string[] } | null;
}

/** Our package.json's version, found by walking up from this module (main/core/library in a checkout, out/ in the build). */
const SQLITE_MAGIC = 'SQLite format 3\0';

function removeDatabaseFiles(path: string): void {
  for (const s of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${s}`, { force: true });
}

export class Library {
  readonly file: string;
  readonly backupDir: string;
  readonly appVersion: string;
  /** Set when opening migrated the database: the version found, and the backup taken first. */
  migratedFrom: number | null = null;
  backupPath: string | null = null;
  private conn!: Database.Database;
  private stores!: {
    models: ModelsStore;
    personas: PersonasStore;
    promptSets: PromptSetsStore;
    vectors: VectorsStore;
    jobs: JobsStore;
    evaluations: EvaluationsStore;
    comparisons: ComparisonsStore;
    chats: ChatsStore;
  };

  private constructor(
    readonly dataDir: string,
    appVersion: string,
  ) {
    this.file = join(dataDir, LIBRARY_FILE);
    this.backupDir = join(dataDir, BACKUP_DIR);
    this.appVersion = appVersion;
    this.connect();
    // Temp files of runs that were killed (a hung import, a crash) are removed by the next run.
    sweepStaleTemp(join(dataDir, 'tmp'));
  }

  static open(opts: LibraryOptions = {}): Library {
    return new Library(resolveDataDir(opts), opts.appVersion ?? packageVersion());
  }

  get db(): Database.Database {
    return this.conn;
  }
  get models(): ModelsStore {
    return this.stores.models;
  }
  get personas(): PersonasStore {
    return this.stores.personas;
  }
  get promptSets(): PromptSetsStore {
    return this.stores.promptSets;
  }
  get vectors(): VectorsStore {
    return this.stores.vectors;
  }
  get jobs(): JobsStore {
    return this.stores.jobs;
  }
  get evaluations(): EvaluationsStore {
    return this.stores.evaluations;
  }
  get comparisons(): ComparisonsStore {
    return this.stores.comparisons;
  }
  get chats(): ChatsStore {
    return this.stores.chats;
  }

  private connect(): void {
    const opened = openLibraryDb(this.file, { backupDir: this.backupDir });
    this.conn = opened.db;
    if (opened.migratedFrom !== null) {
      this.migratedFrom = opened.migratedFrom;
      this.backupPath = opened.backupPath;
    }
    const db = this.conn;
    const models = new ModelsStore(db);
    this.stores = {
      models,
      personas: new PersonasStore(db),
      promptSets: new PromptSetsStore(db),
      vectors: new VectorsStore(db, models),
      jobs: new JobsStore(db),
      evaluations: new EvaluationsStore(db),
      comparisons: new ComparisonsStore(db),
      chats: new ChatsStore(db),
    };
  }

  close(): void {
    if (this.conn.open) this.conn.close();
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.conn.transaction(fn)();
  }

  // ---------- personas with vectors ----------

  /** Creates a persona and stores its vectors in one transaction. */
  createPersonaWithVectors(
    persona: PersonaInput,
    model: string,
    set: PersonaVectorSet,
    opts: { promptSetVersionId?: string | null } = {},
  ): ArithmeticResult {
    const m = this.models.resolve(model);
    return this.transaction(() => {
      const p = this.personas.create(persona);
      const vector = this.vectors.save(p.id, m.id, set, opts);
      return { persona: this.personas.require(p.id), vector };
    });
  }

  /** Copies a persona and its live vectors under a new name ("X (copy)" by default). */
  duplicatePersona(id: string, name?: string): Persona {
    return this.transaction(() => {
      const src = this.personas.require(id);
      const copy = this.personas.create({
        name: name ?? this.personas.uniqueCopyName(src.name),
        description: src.description,
        notes: src.notes,
        tags: src.tags,
      });
      for (const s of this.vectors.list({ personaId: id })) this.vectors.save(copy.id, s.libraryModelId, this.vectors.require(s.id));
      return this.personas.require(copy.id);
    });
  }

  /**
   * Imports a vector file for a library model. Shapes that do not fit the model are refused with
   * both named; everything else questionable comes back as warnings.
   */
  importPersona(path: string, opts: ImportPersonaOptions): ArithmeticResult & { warnings: string[]; format: VectorFormat } {
    const model = this.models.resolve(opts.model);
    const imported = importVectors(path, { format: opts.format, layerShift: opts.layerShift, target: model });
    const { set, warnings } = fitToModel(imported, model, this.appVersion);
    const result = this.transaction(() => {
      const persona = opts.personaId
        ? this.personas.require(opts.personaId)
        : this.personas.create({
            ...imported.persona,
            name: opts.name ?? imported.persona.name,
            tags: [...imported.persona.tags, ...(opts.tags ?? [])],
          });
      const vector = this.vectors.save(persona.id, model.id, set);
      return { persona: this.personas.require(persona.id), vector };
    });
    return { ...result, warnings, format: imported.format };
  }

  /**
   * What importing `path` would do, without storing anything: the file's contents and, when a
   * model is given, whether it fits (the refusal message if not) and the warnings.
   */
  previewImport(
    path: string,
    opts: Omit<ImportPersonaOptions, 'model' | 'personaId' | 'name' | 'tags'> & { model?: string } = {},
  ): ImportPreview {
    const model = opts.model ? this.models.resolve(opts.model) : undefined;
    const imported = importVectors(path, { format: opts.format, layerShift: opts.layerShift, ...(model ? { target: model } : {}) });
    const preview: ImportPreview = {
      format: imported.format,
      files: imported.files,
      persona: imported.persona,
      hiddenSize: imported.hiddenSize,
      numLayers: imported.numLayers,
      modelHint: imported.modelHint,
      layers: imported.layers.map((l) => ({ layer: l.layer, norm: l.norm })),
      warnings: imported.warnings,
      fit: null,
    };
    if (model) {
      try {
        preview.fit = { ok: true, error: null, warnings: fitToModel(imported, model, this.appVersion).warnings };
      } catch (e) {
        preview.fit = { ok: false, error: (e as Error).message, warnings: [] };
      }
    }
    return preview;
  }

  exportPersona(personaId: string, opts: ExportPersonaOptions): ExportResult {
    const persona = this.personas.require(personaId);
    let vector: VectorRecord | null;
    if (opts.vectorId) {
      vector = this.vectors.require(opts.vectorId);
      if (vector.personaId !== personaId) throw new Error(`vector ${opts.vectorId} belongs to another persona`);
    } else {
      vector = this.vectors.latest(personaId, opts.model ? this.models.resolve(opts.model).id : undefined);
    }
    if (!vector)
      throw new Error(`persona ${JSON.stringify(persona.name)} has no vectors${opts.model ? ` for model ${opts.model}` : ''} to export`);
    const model = this.models.get(vector.libraryModelId);
    const input = { persona, set: vector, ...(model ? { architecture: model.architecture } : {}) };
    const path = opts.path ?? defaultExportPath(opts.dir ?? process.cwd(), opts.format, persona.name, input);
    mkdirSync(opts.path ? dirname(opts.path) : (opts.dir ?? process.cwd()), { recursive: true });
    return exportVectors(path, opts.format, input, opts);
  }

  // ---------- arithmetic ----------

  private lineageTerm(v: VectorRecord, coef: number) {
    return { vectorId: v.id, personaId: v.personaId, personaName: this.personas.require(v.personaId).name, coef };
  }

  private saveDerived(
    persona: PersonaInput,
    parents: VectorRecord[],
    layers: PersonaVectorSet['layers'],
    lineage: Lineage,
  ): ArithmeticResult {
    const first = parents[0]!;
    for (const p of parents) {
      if (p.libraryModelId !== first.libraryModelId)
        throw new Error(`vectors ${first.id} and ${p.id} belong to different models; arithmetic needs one model`);
    }
    const same = <T>(f: (v: VectorRecord) => T): T | null => (parents.every((p) => f(p) === f(first)) ? f(first) : null);
    const set: PersonaVectorSet = {
      modelId: first.modelId,
      modelHash: same((v) => v.modelHash),
      hiddenSize: first.hiddenSize,
      numLayers: first.numLayers,
      layers,
      method: 'arithmetic',
      reduction: same((v) => v.reduction),
      counts: null,
      provenance: {
        promptSetHash: null,
        settings: {},
        seed: null,
        appVersion: this.appVersion,
        createdAt: new Date().toISOString(),
        lineage,
      },
    };
    return this.createPersonaWithVectors(persona, first.libraryModelId, set);
  }

  /** Saves Σ coef·vector (per shared layer) as a new persona recording its lineage. */
  combine(persona: PersonaInput, terms: { vectorId: string; coef: number }[]): ArithmeticResult {
    if (terms.length === 0) throw new Error('combine needs at least one vector');
    const parents = terms.map((t) => this.vectors.require(t.vectorId));
    const layers = combineLayers(
      parents,
      terms.map((t) => t.coef),
    );
    return this.saveDerived(persona, parents, layers, { op: 'combine', terms: parents.map((p, i) => this.lineageTerm(p, terms[i]!.coef)) });
  }

  /** Saves `vectorId` with its component along `againstId` removed (per layer) as a new persona. */
  orthogonalize(persona: PersonaInput, vectorId: string, againstId: string): ArithmeticResult {
    const base = this.vectors.require(vectorId);
    const against = this.vectors.require(againstId);
    const layers = orthogonalizeLayers(base, against);
    return this.saveDerived(persona, [base, against], layers, {
      op: 'orthogonalize',
      base: this.lineageTerm(base, 1),
      against: this.lineageTerm(against, 1),
    });
  }

  // ---------- trash ----------

  /** Permanently removes everything soft-deleted. Models still used by vectors stay. */
  emptyTrash(): { personas: number; vectors: number; promptSets: number; models: number } {
    return this.transaction(() => {
      const db = this.conn;
      const vectors = db.prepare('DELETE FROM vectors WHERE deleted_at IS NOT NULL').run().changes;
      const personas = db.prepare('DELETE FROM personas WHERE deleted_at IS NOT NULL').run().changes;
      const promptSets = db.prepare('DELETE FROM prompt_sets WHERE deleted_at IS NOT NULL').run().changes;
      const models = db
        .prepare('DELETE FROM models WHERE deleted_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.model_id = models.id)')
        .run().changes;
      return { personas, vectors, promptSets, models };
    });
  }

  // ---------- health, backup, restore, archives ----------

  integrityCheck(): string[] {
    return integrityCheck(this.conn);
  }

  /** Everything wrong with the library (schema, integrity, foreign keys); empty when healthy. */
  check(): string[] {
    return libraryProblems(this.conn);
  }

  counts(): Record<string, number> {
    const n = (sql: string): number => (this.conn.prepare(sql).get() as { n: number }).n;
    return {
      personas: n('SELECT count(*) AS n FROM personas WHERE deleted_at IS NULL'),
      vectors: n('SELECT count(*) AS n FROM vectors WHERE deleted_at IS NULL'),
      models: n('SELECT count(*) AS n FROM models WHERE deleted_at IS NULL'),
      promptSets: n('SELECT count(*) AS n FROM prompt_sets WHERE deleted_at IS NULL'),
      trash: n(
        'SELECT (SELECT count(*) FROM personas WHERE deleted_at IS NOT NULL) + (SELECT count(*) FROM vectors WHERE deleted_at IS NOT NULL) AS n',
      ),
    };
  }

  /** A fresh path in tmp/ whose name says which process owns it (see temp-files.ts). */
  private tmpPath(tag: string, ext = '.sqlite'): string {
    const dir = join(this.dataDir, 'tmp');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${tempName(tag)}${ext}`);
  }

  /**
   * Online backup (other connections may keep writing) to `dest`, default backups/library-<time>.sqlite.
   * Written to a temp name and renamed, so a backup file is always complete.
   */
  async backup(dest?: string): Promise<string> {
    const target = dest ?? join(this.backupDir, `library-${stamp()}.sqlite`);
    mkdirSync(join(target, '..'), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      await this.conn.backup(tmp);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return target;
  }

  /** One archive (zip: manifest.json + library.sqlite) of the whole library. */
  async exportArchive(dest: string): Promise<ArchiveManifest> {
    const snap = this.tmpPath('archive');
    try {
      await this.conn.backup(snap);
      return writeArchive(dest, snap, {
        appVersion: this.appVersion,
        schemaVersion: this.conn.pragma('user_version', { simple: true }) as number,
        createdAt: new Date().toISOString(),
        counts: this.counts(),
      });
    } finally {
      rmSync(snap, { force: true });
    }
  }

  /**
   * Imports an archive. merge (default) adds what the library lacks and overwrites nothing;
   * replace swaps the whole library for the archive's (after backing the current one up). The
   * snapshot is checked (validateCandidate) before anything is merged or replaced.
   */
  async importArchive(
    src: string,
    opts: { mode?: 'merge' | 'replace' } = {},
  ): Promise<{ manifest: ArchiveManifest; added: Record<string, number> | null; warnings: string[]; safetyBackup: string | null }> {
    const extracted = this.tmpPath('import');
    try {
      const { manifest, warnings } = readArchive(src, extracted);
      this.checkCandidate(extracted, src);
      if ((opts.mode ?? 'merge') === 'replace') {
        const safetyBackup = await this.replaceWith(extracted);
        return { manifest, added: null, warnings, safetyBackup };
      }
      return { manifest, added: mergeDatabase(this.conn, extracted, src), warnings, safetyBackup: null };
    } finally {
      removeDatabaseFiles(extracted);
    }
  }

  /**
   * Replaces the library with a backup (.sqlite) or an archive. The current library is backed up
   * first; the path of that safety backup is returned. Only a regular file is opened.
   */
  async restore(src: string): Promise<string> {
    const { fd } = openRegularFile(src);
    let head: Uint8Array;
    try {
      head = readAt(fd, 16, 0);
    } finally {
      closeSync(fd);
    }
    if (head[0] === 0x50 && head[1] === 0x4b) return (await this.importArchive(src, { mode: 'replace' })).safetyBackup!;
    if (new TextDecoder('latin1').decode(head) !== SQLITE_MAGIC)
      throw new FormatError(src, 0, 'is neither a library backup (.sqlite) nor a library archive');
    const copy = this.tmpPath('restore');
    try {
      try {
        const source = new Database(src, { readonly: true, fileMustExist: true });
        try {
          await source.backup(copy);
        } finally {
          source.close();
        }
      } catch (e) {
        throw new FormatError(src, null, `cannot be read as a library backup (${sqliteDetail(e, [src, copy])})`);
      }
      this.checkCandidate(copy, src);
      return await this.replaceWith(copy);
    } finally {
      removeDatabaseFiles(copy);
    }
  }

  /** Checks (and migrates, if older) a candidate database; problems are reported as `label`. */
  private checkCandidate(path: string, label: string): void {
    // An older candidate is migrated in place; the backup that takes is of a throwaway copy.
    const scratch = this.tmpPath('candidate', '');
    try {
      validateCandidate(path, label, scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  private async replaceWith(candidate: string): Promise<string> {
    const safety = await this.backup(join(this.backupDir, `library-before-restore-${stamp()}.sqlite`));
    this.conn.close();
    try {
      // With the last connection closed SQLite removes the WAL; if it is still there another
      // process has the library open, and swapping the file under it would corrupt it.
      if (existsSync(`${this.file}-wal`))
        throw new StudioError('conflict', `${this.file}: the library is open in another process; close it and try again`);
      rmSync(`${this.file}-shm`, { force: true });
      renameSync(candidate, this.file);
    } finally {
      this.connect();
    }
    return safety;
  }
}
