-- Publishes committed events: gives at most p_limit unsequenced events, in id order, the next numbers of events_seq
-- and returns how many. One sequencer at a time (a transaction-scoped advisory lock; the others get ran = false),
-- and each call is its own transaction, so a number handed out is committed before the next call hands out a larger
-- one: a reader that has seen seq N will never later find a new event below N. Events of transactions still in
-- flight are invisible here and get their number on a later pass.
-- lag_ms: the age at publication of the oldest event of this pass (from its created_at, the start of the transaction
-- that wrote it, so the movement's own duration is included; NULL when none was sequenced): the server's
-- event_publication_lag_seconds.
CREATE OR REPLACE FUNCTION picopay_sequence_events(p_limit integer, OUT sequenced integer, OUT ran boolean,
  OUT lag_ms double precision)
LANGUAGE plpgsql
-- SECURITY DEFINER: the server's sequencer runs as the application role (db/grants.sql), which may not write events;
-- search_path pinned (pg_temp last) so no schema the caller controls can hijack a name.
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
BEGIN
  sequenced := 0;
  -- A fixed key of PicoPay's own: 'picopay_sequence_events' as two int4.
  ran := pg_try_advisory_xact_lock(1885957744, 1936029041);
  IF NOT ran THEN
    RETURN;
  END IF;
  WITH next AS (
    SELECT e.id FROM events e WHERE e.seq IS NULL ORDER BY e.id LIMIT p_limit FOR UPDATE),
  numbered AS (
    SELECT n.id, nextval('events_seq') AS seq FROM (SELECT id FROM next ORDER BY id) n)
  , published AS (
    UPDATE events e SET seq = numbered.seq FROM numbered WHERE e.id = numbered.id RETURNING e.created_at)
  SELECT count(*), 1000 * extract(epoch FROM clock_timestamp() - min(p.created_at))
    INTO sequenced, lag_ms FROM published p;
END $$;
