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
  -- The API client (key id) whose request caused it; NULL for the server's own work (the hold sweeper).
  client     text,
  user_id    bigint NOT NULL REFERENCES users (id),
  -- The object as the API returns it (compact JSON text, the bytes of the response's transaction/decline).
  data       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The sequencer's work list: small, since events wait in it only until the next pass.
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;
CREATE SEQUENCE events_seq AS bigint;

-- Down Migration
DROP SEQUENCE IF EXISTS events_seq;
DROP TABLE IF EXISTS events;
