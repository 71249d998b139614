// The schema as a ladder of steps: step i takes user_version i-1 to i. Steps are never edited once
// released; a change is a new step. Every table is STRICT; JSON columns are checked with json_valid.
// Ids are text UUIDs and child rows have natural keys, so archives merge with INSERT OR IGNORE.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

const json = (col: string, nullable = false): string =>
  nullable ? `${col} TEXT CHECK (${col} IS NULL OR json_valid(${col}))` : `${col} TEXT NOT NULL CHECK (json_valid(${col}))`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'models, personas, prompt sets, vectors',
    up(db) {
      db.exec(`
        CREATE TABLE models (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL CHECK (length(name) > 0),
          source TEXT NOT NULL,
          source_kind TEXT NOT NULL CHECK (source_kind IN ('path', 'hub')),
          content_hash TEXT,
          architecture TEXT NOT NULL,
          hidden_size INTEGER NOT NULL CHECK (hidden_size > 0),
          num_layers INTEGER NOT NULL CHECK (num_layers > 0),
          created_at INTEGER NOT NULL,
          deleted_at INTEGER
        ) STRICT;
        CREATE INDEX models_content_hash ON models(content_hash);

        CREATE TABLE model_variants (
          id TEXT PRIMARY KEY,
          model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
          label TEXT NOT NULL,
          path TEXT NOT NULL,
          precision TEXT NOT NULL,
          compiler_version TEXT NOT NULL,
          ${json('options')},
          created_at INTEGER NOT NULL,
          UNIQUE (model_id, label)
        ) STRICT;

        CREATE TABLE personas (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL CHECK (length(name) > 0),
          description TEXT NOT NULL,
          notes TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          deleted_at INTEGER
        ) STRICT;
        CREATE INDEX personas_name ON personas(name COLLATE NOCASE);

        CREATE TABLE persona_tags (
          persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
          tag TEXT NOT NULL CHECK (length(tag) > 0),
          PRIMARY KEY (persona_id, tag)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX persona_tags_tag ON persona_tags(tag);

        CREATE TABLE prompt_sets (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL CHECK (length(name) > 0),
          description TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          deleted_at INTEGER
        ) STRICT;

        CREATE TABLE prompt_set_versions (
          id TEXT PRIMARY KEY,
          prompt_set_id TEXT NOT NULL REFERENCES prompt_sets(id) ON DELETE CASCADE,
          version INTEGER NOT NULL CHECK (version > 0),
          content_hash TEXT NOT NULL,
          note TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          UNIQUE (prompt_set_id, version)
        ) STRICT;

        CREATE TABLE prompt_items (
          version_id TEXT NOT NULL REFERENCES prompt_set_versions(id) ON DELETE CASCADE,
          kind TEXT NOT NULL CHECK (kind IN ('positive', 'negative', 'evaluation', 'baseline')),
          position INTEGER NOT NULL CHECK (position >= 0),
          text TEXT NOT NULL,
          PRIMARY KEY (version_id, kind, position)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE vectors (
          id TEXT PRIMARY KEY,
          persona_id TEXT NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
          model_id TEXT NOT NULL REFERENCES models(id) ON DELETE RESTRICT,
          model_name TEXT NOT NULL,
          model_hash TEXT,
          hidden_size INTEGER NOT NULL CHECK (hidden_size > 0),
          num_layers INTEGER NOT NULL CHECK (num_layers > 0),
          method TEXT CHECK (method IS NULL OR method IN ('mean-diff', 'pca', 'arithmetic')),
          reduction TEXT CHECK (reduction IS NULL OR reduction IN ('response-mean', 'last-prompt', 'all-tokens', 'prompt-mean')),
          ${json('counts', true)},
          prompt_set_version_id TEXT REFERENCES prompt_set_versions(id) ON DELETE SET NULL,
          ${json('provenance')},
          created_at INTEGER NOT NULL,
          deleted_at INTEGER
        ) STRICT;
        CREATE INDEX vectors_persona ON vectors(persona_id);
        CREATE INDEX vectors_model ON vectors(model_id);

        -- Raw float32 little-endian, hidden_size values; rowid table because rows carry kilobytes.
        CREATE TABLE vector_layers (
          vector_id TEXT NOT NULL REFERENCES vectors(id) ON DELETE CASCADE,
          layer INTEGER NOT NULL CHECK (layer >= 0),
          data BLOB NOT NULL,
          norm REAL NOT NULL,
          ${json('separation', true)},
          PRIMARY KEY (vector_id, layer)
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    description: 'jobs, evaluations, comparisons, chats',
    up(db) {
      db.exec(`
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
          progress REAL NOT NULL CHECK (progress >= 0 AND progress <= 1),
          message TEXT NOT NULL,
          ${json('params')},
          ${json('state', true)},
          ${json('result', true)},
          error TEXT,
          persona_id TEXT REFERENCES personas(id) ON DELETE SET NULL,
          model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER
        ) STRICT;
        CREATE INDEX jobs_status ON jobs(status);

        CREATE TABLE evaluations (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          kind TEXT NOT NULL,
          persona_id TEXT REFERENCES personas(id) ON DELETE SET NULL,
          vector_id TEXT REFERENCES vectors(id) ON DELETE SET NULL,
          model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
          ${json('grid')},
          ${json('metrics')},
          ${json('settings')},
          created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX evaluations_persona ON evaluations(persona_id);

        CREATE TABLE evaluation_samples (
          evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          layer INTEGER,
          alpha REAL,
          prompt TEXT NOT NULL,
          output TEXT NOT NULL,
          ${json('scores')},
          PRIMARY KEY (evaluation_id, seq)
        ) STRICT;

        CREATE TABLE comparisons (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          ${json('config')},
          ${json('results')},
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE chats (
          id TEXT PRIMARY KEY,
          title TEXT NOT NULL,
          model_id TEXT REFERENCES models(id) ON DELETE SET NULL,
          ${json('settings')},
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE chat_messages (
          chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
          content TEXT NOT NULL,
          ${json('meta')},
          created_at INTEGER NOT NULL,
          PRIMARY KEY (chat_id, seq)
        ) STRICT;
      `);
    },
  },
  {
    version: 3,
    description: 'prompt sets: questions and held-out splits as item kinds; a version spec (kind, role, markers)',
    up(db) {
      // SQLite cannot change a CHECK constraint in place: rebuild prompt_items (nothing references it).
      db.exec(`
        ALTER TABLE prompt_set_versions ADD COLUMN ${json('spec', true)};
        CREATE TABLE prompt_items_v3 (
          version_id TEXT NOT NULL REFERENCES prompt_set_versions(id) ON DELETE CASCADE,
          kind TEXT NOT NULL CHECK (kind IN ('positive', 'negative', 'evaluation', 'baseline', 'questions',
            'heldout-positive', 'heldout-negative', 'heldout-questions')),
          position INTEGER NOT NULL CHECK (position >= 0),
          text TEXT NOT NULL,
          PRIMARY KEY (version_id, kind, position)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO prompt_items_v3 (version_id, kind, position, text) SELECT version_id, kind, position, text FROM prompt_items;
        DROP TABLE prompt_items;
        ALTER TABLE prompt_items_v3 RENAME TO prompt_items;
      `);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Tables in an order where parents come before children (for copying rows between databases). */
export const TABLE_ORDER = [
  'models',
  'model_variants',
  'personas',
  'persona_tags',
  'prompt_sets',
  'prompt_set_versions',
  'prompt_items',
  'vectors',
  'vector_layers',
  'jobs',
  'evaluations',
  'evaluation_samples',
  'comparisons',
  'chats',
  'chat_messages',
];
