-- Whether an idempotency record has outlived its retention: p_retention for every record, p_decline_retention for a
-- recorded decline about a user or charge that does not exist (junk a client should not pin for the full retention).
-- An expired record is treated as absent by the claim, whether or not the purge has deleted it yet; the purge
-- selects exactly these rows, through the created_at indexes.
CREATE OR REPLACE FUNCTION picopay_key_expired(p_created_at timestamptz, p_code text, p_retention interval,
  p_decline_retention interval) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT p_created_at < now() - p_retention
      OR (p_code IN ('user_not_found', 'charge_not_found') AND p_created_at < now() - p_decline_retention)
$$;
