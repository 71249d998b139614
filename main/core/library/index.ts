// Public surface of the library for the CLI, Electron main and browser mode.
export {
  Library,
  type LibraryOptions,
  type ImportPersonaOptions,
  type ExportPersonaOptions,
  type ArithmeticResult,
  type ImportPreview,
} from './library.ts';
export { resolveDataDir, defaultDataDir, LIBRARY_FILE, BACKUP_DIR } from './data-dir.ts';
export { openLibraryDb, integrityCheck, APPLICATION_ID } from './db.ts';
export { LATEST_VERSION, MIGRATIONS } from './migrations.ts';
export { StudioError, errorCode, type ErrorCode } from '../errors.ts';
export { ARCHIVE_FORMAT, ARCHIVE_FORMAT_VERSION, type ArchiveManifest } from './archive.ts';
export { promptItemsHash } from './prompt-sets-store.ts';
export type { PersonaQuery } from './personas-store.ts';
export type { VectorQuery } from './vectors-store.ts';
export type { JobPatch } from './jobs-store.ts';
export { combineLayers, orthogonalizeLayers, unitVector, cosine } from '../steering/vector-math.ts';
export * from './schema.ts';
