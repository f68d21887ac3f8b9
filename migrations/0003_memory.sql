-- The ReasoningBank (src/memory): patterns of any embedding model. 0002 made
-- `patterns` with a vector(768) column and one global HNSW index; memory
-- stores vectors of whichever model is configured, so the column becomes a
-- plain `vector` with the model and dimension on each row, and each
-- (model, dimension) gets its own partial index (src/store/vectors.ts,
-- created by the repository before a space's first insert).

DROP INDEX IF EXISTS patterns_embedding_idx;
ALTER TABLE patterns ALTER COLUMN embedding TYPE vector;
ALTER TABLE patterns ADD COLUMN embedding_dim integer;
UPDATE patterns SET embedding_dim = vector_dims(embedding) WHERE embedding IS NOT NULL;
UPDATE patterns SET kind = 'solution' WHERE kind NOT IN ('solution', 'error_recovery', 'refactoring', 'optimization', 'testing', 'reasoning');
ALTER TABLE patterns ALTER COLUMN kind SET DEFAULT 'solution';
ALTER TABLE patterns ADD CONSTRAINT patterns_kind_check
  CHECK (kind IN ('solution', 'error_recovery', 'refactoring', 'optimization', 'testing', 'reasoning'));
ALTER TABLE patterns ADD COLUMN title text NOT NULL DEFAULT '';
ALTER TABLE patterns ADD COLUMN description text NOT NULL DEFAULT '';
-- What the pattern is retrieved by ("when to use"): the source task's
-- description with the item's title and description. Embedded instead of
-- the content: a new task is compared with the tasks memories came from.
ALTER TABLE patterns ADD COLUMN key_text text NOT NULL DEFAULT '';
ALTER TABLE patterns ADD COLUMN source_task_ids uuid[] NOT NULL DEFAULT '{}';
UPDATE patterns SET source_task_ids = ARRAY[source_task_id] WHERE source_task_id IS NOT NULL;
ALTER TABLE patterns ADD CONSTRAINT patterns_embedding_dim_check
  CHECK ((embedding IS NULL) = (embedding_dim IS NULL) AND (embedding IS NULL OR embedding_model IS NOT NULL));
CREATE INDEX patterns_kind_idx ON patterns (kind, created_at DESC);
CREATE INDEX patterns_model_idx ON patterns (embedding_model, embedding_dim);

-- Which patterns went into which task's prompt, and how that task ended:
-- every count on a pattern traces back to rows here.
CREATE TABLE pattern_uses (
  task_id     uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  pattern_id  uuid NOT NULL REFERENCES patterns (id) ON DELETE CASCADE,
  similarity  double precision NOT NULL,
  score       double precision NOT NULL,
  outcome     text CHECK (outcome IN ('success', 'failure')),  -- NULL until the task ends
  used_at     timestamptz NOT NULL DEFAULT now(),
  counted_at  timestamptz,
  PRIMARY KEY (task_id, pattern_id)
);
CREATE INDEX pattern_uses_pattern_idx ON pattern_uses (pattern_id, used_at DESC);
