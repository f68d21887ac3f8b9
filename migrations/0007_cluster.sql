-- Many daemons on one database: leases, adoption of a dead daemon's tasks,
-- and the database side of cross-daemon events (LISTEN/NOTIFY). No extension.

-- A daemon holds a lease it renews by heartbeat. One whose lease has run out
-- is presumed dead: another daemon adopts it (adopted_by/adopted_at, set once
-- by a single UPDATE so two adopters never both act) and requeues its running
-- tasks. A daemon that finds itself adopted drops what it ran and rejoins.
ALTER TABLE daemons
  ADD COLUMN lease_expires_at timestamptz,
  ADD COLUMN http_url         text,
  ADD COLUMN acp_url          text,
  ADD COLUMN events           text,          -- how it publishes task events now: redis | database | local
  ADD COLUMN adopted_by       text,
  ADD COLUMN adopted_at       timestamptz;
CREATE INDEX daemons_live_idx ON daemons (lease_expires_at) WHERE stopped_at IS NULL AND adopted_at IS NULL;

-- Messages too large for a NOTIFY payload (8000 bytes) travel by reference:
-- the row holds the message, the notification its id. Old rows are pruned.
CREATE TABLE bus_messages (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel    text NOT NULL,
  payload    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bus_messages_created_idx ON bus_messages (created_at);

-- Agents per daemon, for the cluster status.
CREATE INDEX agents_daemon_idx ON agents (daemon_id) WHERE stopped_at IS NULL;
