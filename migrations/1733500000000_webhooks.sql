-- Up Migration

-- Webhook endpoints (#18): where the relay POSTs published events (events.seq), one endpoint at a time per instance.
-- `delivered_seq` is the last seq the endpoint is done with (delivered, or not of its types). It starts at the newest seq
-- when the endpoint is created: an endpoint receives events published after it, not the history (GET /events has
-- that). `failures`, `failing_since` and `next_attempt_at` are the retry state of the event after the cursor: an
-- endpoint delivers in seq order, so a failing event blocks the later ones until it is delivered or the endpoint is
-- disabled. `lease_owner`/`lease_until`: the instance delivering it now (claimed with FOR UPDATE SKIP LOCKED).
-- The secret signs deliveries; the application role cannot SELECT it (db/grants.sql grants the other columns).
CREATE TABLE webhook_endpoints (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url             text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
  description     text CHECK (char_length(description) <= 500),
  event_types     text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
  secret          text NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_seq   bigint NOT NULL,
  failures        integer NOT NULL DEFAULT 0,
  failing_since   timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  disabled_at     timestamptz,
  disabled_reason text,
  lease_owner     text,
  lease_until     timestamptz
);
-- The relay's work list: enabled endpoints by when they are due.
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (next_attempt_at) WHERE disabled_at IS NULL;

-- Every delivery attempt, the log behind GET /webhook-endpoints/{id}/deliveries (deleted with its endpoint).
CREATE TABLE webhook_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_id  bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_seq    bigint NOT NULL,
  webhook_id   text NOT NULL,
  attempt      integer NOT NULL,
  -- The HTTP status answered, or NULL with `error` when there was no answer (refused address, timeout, reset).
  status       integer,
  error        text,
  delivered    boolean NOT NULL,
  duration_ms  integer NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
-- The purge of attempts older than WEBHOOK_ATTEMPT_RETENTION (picopay_webhook_purge_attempts).
CREATE INDEX webhook_attempts_attempted_at ON webhook_attempts (attempted_at);

-- Down Migration
DROP TABLE IF EXISTS webhook_attempts;
DROP TABLE IF EXISTS webhook_endpoints;
