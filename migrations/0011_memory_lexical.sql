-- The lexical half of memory search (src/memory/lexical.ts): a BM25 ranking
-- over PostgreSQL's English stemmer. key_tsv holds the stems of what a
-- pattern is found by (key_text: the source task's description, title and
-- description, weight A) and of its content (weight D, counted lighter).
-- Generated, so every writer (the daemon, an import, plain SQL) keeps it
-- true; the GIN index finds the patterns sharing a query's stems.

ALTER TABLE patterns ADD COLUMN key_tsv tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english', key_text), 'A') || setweight(to_tsvector('english', left(content, 4000)), 'D')
) STORED;
CREATE INDEX patterns_key_tsv_idx ON patterns USING gin (key_tsv);
