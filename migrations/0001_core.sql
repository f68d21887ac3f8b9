-- Daemons, agents, tasks and their events: what the daemon needs to run work
-- and to survive a crash. No extension needed (0002 adds pgvector).

-- Every daemon that ran against this database. Tasks name their owner here;
-- the id is stable across restarts (kept in the daemon's data directory).
CREATE TABLE daemons (
  id           text PRIMARY KEY,
  host         text NOT NULL,
  pid          integer,
  version      text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  stopped_at   timestamptz
);

-- One row per agent (a Claude Code process, local or on a remote worker).
-- status is free text on purpose: the pool owns its state machine
-- (starting, idle, busy, unhealthy, stopping, stopped, crashed).
CREATE TABLE agents (
  id                text PRIMARY KEY,
  role              text NOT NULL,
  driver            text NOT NULL DEFAULT 'stream',   -- stream | pty | remote
  status            text NOT NULL DEFAULT 'starting',
  daemon_id         text,                             -- the daemon supervising it
  worker_id         text,                             -- the remote worker hosting it, if any
  pid               integer,
  session_id        text,                             -- Claude Code session, for --resume
  workdir           text,
  current_task_id   uuid,
  restarts          integer NOT NULL DEFAULT 0,
  metadata          jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  last_heartbeat_at timestamptz,
  stopped_at        timestamptz
);
CREATE INDEX agents_status_role_idx ON agents (status, role);

-- Tasks. ids are UUIDv7 made by the application: time-ordered, so the id is
-- also the paging cursor. Token and cost columns add up over all attempts.
CREATE TABLE tasks (
  id                    uuid PRIMARY KEY,
  parent_id             uuid REFERENCES tasks (id) ON DELETE CASCADE,
  root_id               uuid NOT NULL,                -- top of the delegation tree (itself for a root)
  depth                 integer NOT NULL DEFAULT 0,   -- 0 for a root, parent's depth + 1 below
  role                  text,                         -- requested or routed role; NULL: not routed yet
  description           text NOT NULL,
  prompt                text,                         -- what the agent is sent, when it differs
  priority              integer NOT NULL DEFAULT 0,   -- higher runs first
  coordinate            boolean NOT NULL DEFAULT false,
  source                text,                         -- api | cli | mcp | delegation | acp
  status                text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  progress              real,                         -- 0..1, last reported
  progress_message      text,
  result                text,
  error                 jsonb,                        -- { code, message, hint?, details? }
  input_tokens          integer NOT NULL DEFAULT 0,
  output_tokens         integer NOT NULL DEFAULT 0,
  cache_read_tokens     integer NOT NULL DEFAULT 0,
  cache_creation_tokens integer NOT NULL DEFAULT 0,
  cost_usd              double precision NOT NULL DEFAULT 0,
  duration_ms           integer,                      -- of the attempt that finished it
  owner_daemon          text,                         -- daemon running it; kept after it ends
  agent_id              text,                         -- agent running (or that last ran) it
  session_id            text,
  attempts              integer NOT NULL DEFAULT 0,   -- claims so far
  max_attempts          integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  timeout_ms            integer CHECK (timeout_ms IS NULL OR timeout_ms > 0),
  metadata              jsonb NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  available_at          timestamptz NOT NULL DEFAULT now(),  -- not claimable before (retry backoff)
  started_at            timestamptz,                  -- of the latest attempt
  finished_at           timestamptz,
  CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX tasks_claim_idx ON tasks (priority DESC, id) WHERE status = 'pending';
CREATE INDEX tasks_status_idx ON tasks (status, id DESC);
CREATE INDEX tasks_role_idx ON tasks (role, id DESC);
CREATE INDEX tasks_parent_idx ON tasks (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_root_idx ON tasks (root_id);
CREATE INDEX tasks_running_owner_idx ON tasks (owner_daemon) WHERE status = 'running';
CREATE INDEX tasks_agent_idx ON tasks (agent_id) WHERE status = 'running';

-- Every transition and report of a task, in order. The id is what server-sent
-- events carry as Last-Event-ID, so a client that reconnects replays from it.
CREATE TABLE task_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id    uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  type       text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_events_task_idx ON task_events (task_id, id);

-- Routing decisions and their outcomes, for the learned router: the state it
-- saw, the action it took, and the reward once the task ended.
CREATE TABLE rl_experiences (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id     uuid REFERENCES tasks (id) ON DELETE SET NULL,
  algorithm   text NOT NULL,               -- heuristic | q_learning | dqn | ppo
  state       jsonb NOT NULL,              -- encoded features (and what they were made from)
  action      text NOT NULL,               -- the role or agent chosen
  action_index integer,
  log_prob    double precision,            -- PPO: of the action when chosen
  value       double precision,            -- PPO: critic's estimate when chosen
  reward      double precision,            -- NULL until the outcome is known
  next_state  jsonb,
  done        boolean NOT NULL DEFAULT true,
  outcome     jsonb,                       -- { status, tokens, duration_ms, ... }
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  rewarded_at timestamptz
);
CREATE INDEX rl_experiences_algorithm_idx ON rl_experiences (algorithm, id);
CREATE INDEX rl_experiences_task_idx ON rl_experiences (task_id);

-- Trained models, versioned per algorithm; at most one active per algorithm.
CREATE TABLE rl_models (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  algorithm   text NOT NULL,
  version     integer NOT NULL,
  params      jsonb NOT NULL DEFAULT '{}', -- hyperparameters
  weights     bytea,                       -- Q-table or network weights, serialised
  metrics     jsonb NOT NULL DEFAULT '{}',
  experiences integer NOT NULL DEFAULT 0,  -- how many it was trained on
  active      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (algorithm, version)
);
CREATE UNIQUE INDEX rl_models_one_active_idx ON rl_models (algorithm) WHERE active;

-- Context kept for agents and tasks: prompts, summaries, compressed forms.
CREATE TABLE context_snapshots (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_id        text,
  task_id         uuid REFERENCES tasks (id) ON DELETE CASCADE,
  session_id      text,
  kind            text NOT NULL,           -- prompt | conversation | summary | compressed
  content         text NOT NULL,
  token_count     integer NOT NULL DEFAULT 0,
  original_tokens integer,                 -- before compression
  strategy        text,                    -- compression strategy used
  metadata        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX context_snapshots_agent_idx ON context_snapshots (agent_id, created_at DESC);
CREATE INDEX context_snapshots_task_idx ON context_snapshots (task_id);
