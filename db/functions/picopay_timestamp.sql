-- RFC 3339 UTC text at millisecond precision, as every created_at is shown.
-- STABLE like to_char inside it: a function is not inlined when its label promises more than its body.
CREATE OR REPLACE FUNCTION picopay_timestamp(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
  SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
