-- Dashboard sign-in sessions (src/daemon/sessions.ts). They live here, not in
-- the daemon's memory, so a restarted daemon (or another daemon on the same
-- PostgreSQL) still knows them and the browser's live views reconnect
-- without a new sign-in. Only the sha256 of the cookie's token is stored;
-- each session belongs to the API key it was made with, and ends when that
-- key is revoked, when it expires, or at sign-out.
CREATE TABLE ui_sessions (
  id         text PRIMARY KEY,              -- sha256 of the session token, hex
  key_id     text NOT NULL,                 -- the API key that signed in
  key_name   text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at);
CREATE INDEX ui_sessions_key_idx ON ui_sessions (key_id);

-- The dashboard's "tokens and cost today" adds up tasks finished since midnight.
CREATE INDEX tasks_finished_idx ON tasks (finished_at) WHERE finished_at IS NOT NULL;
