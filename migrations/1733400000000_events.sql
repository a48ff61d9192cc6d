-- Up Migration

-- The transactional outbox (#18). Every money movement writes its event row in the same transaction, inside the
-- same SQL function, so there is no event without its movement and no movement without its event.
--
-- Two numbers per event. `id` is taken at INSERT, inside the money transaction: transactions commit in another order
-- than they took ids, so a reader paging by `id` could pass an id whose transaction commits later and never see it.
-- `seq` is the public, strictly increasing position: assigned after commit by one sequencer at a time
-- (picopay_sequence_events, under an advisory lock, in its own short transaction), so every event that becomes
-- visible later gets a larger `seq` than every event already visible. `GET /events?after=` and the webhook relay
-- page by `seq`; an event is published once it has one.
CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seq        bigint UNIQUE,
  type       text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
  -- The API client (key id) whose request caused it; for authorization.expired, the client that owns the hold.
  client     text,
  -- The user whose money moved (or, for charge.declined, the user the request named, which may not exist): no foreign
  -- key, the movement written in the same transaction already checked it and the outbox insert stays cheap.
  user_id    bigint NOT NULL,
  -- The object as the API returns it (compact JSON text, the bytes of the response's transaction/decline).
  data       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The sequencer's work list: small, since events wait in it only until the next pass.
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;
CREATE SEQUENCE events_seq AS bigint;
-- GET /events for a client (it sees only its own events): its events in seq order without scanning the others'.
CREATE INDEX events_client_seq ON events (client, seq) WHERE seq IS NOT NULL;
-- The retention purge (picopay_purge_events): oldest first.
CREATE INDEX events_created_at ON events (created_at);

-- Down Migration
DROP SEQUENCE IF EXISTS events_seq;
DROP TABLE IF EXISTS events;
