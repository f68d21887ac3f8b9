-- Token efficiency (src/tokens): what compression saved, and agents' context
-- kept compressed so a retried task or a restarted agent goes on from it.

-- One row per strategy that changed a prompt (the token budget stage) or a
-- text sent to POST /tokens/compress. Metrics add these up per day and strategy.
CREATE TABLE token_savings (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id       uuid REFERENCES tasks (id) ON DELETE CASCADE,
  agent_id      text,
  role          text,
  source        text NOT NULL,               -- prompt_stage | api
  strategy      text NOT NULL,
  lossy         boolean NOT NULL,
  tokens_before integer NOT NULL,
  tokens_after  integer NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_savings_created_idx ON token_savings (created_at);
CREATE INDEX token_savings_task_idx ON token_savings (task_id) WHERE task_id IS NOT NULL;

-- context_snapshots (0001) gains the compressed form: `content` holds the
-- compact summary a model is given, `data` the whole context compressed
-- with `codec` (zstd), `bytes` its size before compression.
ALTER TABLE context_snapshots ADD COLUMN codec text NOT NULL DEFAULT 'none';
ALTER TABLE context_snapshots ADD COLUMN data bytea;
ALTER TABLE context_snapshots ADD COLUMN bytes integer;
CREATE INDEX context_snapshots_task_created_idx ON context_snapshots (task_id, created_at DESC);
