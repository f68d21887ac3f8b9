-- The code index (src/codeindex): every file of each root with what happened
-- to it, and the chunks of the indexed ones with a weighted tsvector (name A,
-- signature B, doc comment C, body D; identifiers split on camelCase and
-- snake_case before they get here). Needs no pgvector: lexical search works
-- on any PostgreSQL. (0002's code_* tables are pgvector-only and unused.)

CREATE TABLE codeindex_files (
  root         text NOT NULL,
  path         text NOT NULL,
  language     text,
  status       text NOT NULL CHECK (status IN ('indexed', 'lines', 'skipped', 'error')),
  reason       text,
  content_hash text,
  size_bytes   bigint,
  chunk_count  integer NOT NULL DEFAULT 0,
  parse_errors integer NOT NULL DEFAULT 0,
  indexed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (root, path)
);

CREATE TABLE codeindex_chunks (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  root       text NOT NULL,
  path       text NOT NULL,
  language   text,
  kind       text NOT NULL,
  name       text,
  parent     text,
  signature  text NOT NULL DEFAULT '',
  doc        text NOT NULL DEFAULT '',
  start_line integer NOT NULL,
  end_line   integer NOT NULL CHECK (end_line >= start_line),
  content    text NOT NULL,
  tsv        tsvector NOT NULL,
  FOREIGN KEY (root, path) REFERENCES codeindex_files (root, path) ON DELETE CASCADE
);
CREATE INDEX codeindex_chunks_tsv_idx ON codeindex_chunks USING gin (tsv);
CREATE INDEX codeindex_chunks_file_idx ON codeindex_chunks (root, path);
