import type { Check } from './check.ts';

// The outbox (#18): no movement without its event, no event without its movement. A movement is a ledger entry
// (charge, refund, credit; a capture is its authorization's event) or a step of a hold's life; its event names it by
// the id of its data object. Events older than EVENT_RETENTION are purged, oldest first, and an event's created_at is
// its movement's (one transaction): so every movement at or after the oldest event still kept must have its event.
// (When every event has been purged, every movement is checked: a ledger idle for the whole retention reports its
// movements as missing events.) charge.declined has no movement to pair with: it is checked for its shape only.
const MOVEMENTS = `
  SELECT 'charge.succeeded' AS type, id, created_at AS at FROM ledger_entries
   WHERE type = 'charge' AND authorization_id IS NULL
  UNION ALL SELECT 'refund.succeeded', id, created_at FROM ledger_entries WHERE type = 'refund'
  UNION ALL SELECT 'credit.succeeded', id, created_at FROM ledger_entries WHERE type = 'credit'
  UNION ALL SELECT 'authorization.created', id, created_at FROM authorizations
  UNION ALL SELECT 'authorization.' || status, id, settled_at FROM authorizations WHERE status <> 'pending'`;

export const EVENT_CHECKS: readonly Check[] = [
  {
    name: 'movement_has_one_event',
    description: 'every money movement since the oldest kept event has exactly one event, and every event its movement',
    sql: `WITH kept AS (SELECT coalesce(min(created_at), '-infinity') AS since FROM events),
               published AS (SELECT type, (data::json ->> 'id')::bigint AS id, count(*) AS n FROM events
                              WHERE type <> 'charge.declined' GROUP BY 1, 2)
          SELECT format('%s %s: %s event(s)%s', coalesce(m.type, p.type), coalesce(m.id, p.id), coalesce(p.n, 0),
                        CASE WHEN m.id IS NULL THEN ', no such movement' ELSE '' END) AS detail
            FROM (${MOVEMENTS}) m
            FULL JOIN published p ON p.type = m.type AND p.id = m.id
           WHERE (m.id IS NULL OR coalesce(p.n, 0) <> 1) AND (m.at IS NULL OR m.at >= (SELECT since FROM kept))
           LIMIT 20`,
  },
];
