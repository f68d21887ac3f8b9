-- Learned routing (src/rl): what a person changed at run time and must
-- survive a restart: the active algorithm and parameter overrides.
-- Models are in rl_models (0001), decisions in rl_experiences (0001).
CREATE TABLE rl_settings (
  key        text PRIMARY KEY,          -- algorithm | params
  value      jsonb NOT NULL,          -- { "v": the value }
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Training reads the newest rewarded decisions of one state version.
CREATE INDEX rl_experiences_version_idx ON rl_experiences (((state->>'v')::int), id) WHERE reward IS NOT NULL;
