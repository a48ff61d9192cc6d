-- Creates a webhook endpoint (POST /webhook-endpoints, after the URL passed the SSRF guard) and returns its id. It
-- starts after the newest published event: it receives what is published from now on, not the history.
CREATE OR REPLACE FUNCTION picopay_webhook_create(p_url text, p_event_types text[], p_description text, p_secret text,
  p_created_by text)
RETURNS bigint
LANGUAGE sql
-- SECURITY DEFINER: the application role may not write webhook_endpoints; search_path pinned (pg_temp last).
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
SET enable_seqscan = off
AS $$
  INSERT INTO webhook_endpoints (url, event_types, description, secret, created_by, delivered_seq)
  VALUES (p_url, p_event_types, p_description, p_secret, p_created_by,
          coalesce((SELECT max(e.seq) FROM events e), 0))
  RETURNING id;
$$;
