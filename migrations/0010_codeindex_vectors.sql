-- Chunk vectors for the code index (src/codeindex/vectors.ts), and file
-- mtimes for a stat-only re-index pass. Portable on purpose: the vector is
-- bytea (float32, little-endian) with its model and dimension, scored in the
-- daemon over the lexical candidates, so code search works the same on a
-- PostgreSQL without pgvector (Debian's 15) and on PGlite. A chunk has at most
-- one vector; one of another model is replaced, never compared.

ALTER TABLE codeindex_files ADD COLUMN mtime_ms double precision;

CREATE TABLE codeindex_vectors (
  chunk_id        bigint PRIMARY KEY REFERENCES codeindex_chunks (id) ON DELETE CASCADE,
  embedding_model text NOT NULL,
  embedding_dim   integer NOT NULL CHECK (embedding_dim > 0),
  embedding       bytea NOT NULL CHECK (octet_length(embedding) = 4 * embedding_dim),
  embedded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX codeindex_vectors_space_idx ON codeindex_vectors (embedding_model, embedding_dim);
