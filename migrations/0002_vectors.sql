-- Embeddings: the ReasoningBank's patterns and the code index. 768 dimensions
-- (nomic-embed-text, and the built-in hash provider). HNSW with cosine
-- distance; search only compares rows of one embedding_model.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE patterns (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind            text NOT NULL DEFAULT 'task',   -- task | routing | error | ...
  role            text,
  task_type       text,
  content         text NOT NULL,                  -- what is fed back into prompts
  content_hash    text NOT NULL,                  -- one row per distinct content
  embedding       vector(768),
  embedding_model text,                           -- e.g. hash-768, nomic-embed-text
  success_count   integer NOT NULL DEFAULT 0 CHECK (success_count >= 0),
  failure_count   integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
  -- NULL until the pattern has been used once.
  success_rate    double precision GENERATED ALWAYS AS
                  (success_count::double precision / NULLIF(success_count + failure_count, 0)) STORED,
  source_task_id  uuid REFERENCES tasks (id) ON DELETE SET NULL,
  metadata        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz
);
CREATE UNIQUE INDEX patterns_content_hash_idx ON patterns (content_hash);
CREATE INDEX patterns_role_idx ON patterns (role, task_type);
CREATE INDEX patterns_embedding_idx ON patterns USING hnsw (embedding vector_cosine_ops);

-- Incremental indexing: which files were indexed at which content hash.
CREATE TABLE code_files (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  root         text NOT NULL,                     -- absolute project root
  path         text NOT NULL,                     -- relative to root
  language     text,
  content_hash text NOT NULL,
  size_bytes   integer,
  chunk_count  integer NOT NULL DEFAULT 0,
  indexed_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (root, path)
);

CREATE TABLE code_chunks (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file_id         bigint NOT NULL REFERENCES code_files (id) ON DELETE CASCADE,
  root            text NOT NULL,                  -- copied from the file, for search results
  path            text NOT NULL,
  language        text,
  kind            text,                           -- function | class | method | block ...
  symbol          text,
  start_line      integer NOT NULL,
  end_line        integer NOT NULL CHECK (end_line >= start_line),
  content         text NOT NULL,
  content_hash    text NOT NULL,
  embedding       vector(768),
  embedding_model text,
  metadata        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX code_chunks_file_idx ON code_chunks (file_id);
CREATE INDEX code_chunks_root_language_idx ON code_chunks (root, language);
CREATE INDEX code_chunks_embedding_idx ON code_chunks USING hnsw (embedding vector_cosine_ops);

CREATE TABLE indexing_jobs (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  root          text NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  options       jsonb NOT NULL DEFAULT '{}',      -- extensions, exclude, embedding model
  files_total   integer NOT NULL DEFAULT 0,
  files_done    integer NOT NULL DEFAULT 0,
  files_skipped integer NOT NULL DEFAULT 0,       -- unchanged since the last run
  chunks        integer NOT NULL DEFAULT 0,
  error         jsonb,
  owner_daemon  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX indexing_jobs_status_idx ON indexing_jobs (status, created_at DESC);
