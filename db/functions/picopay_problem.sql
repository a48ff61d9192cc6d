-- RFC 9457 body of a final decline; the TypeScript error catalogue renders the same bytes (test/db/sql-drift).
CREATE OR REPLACE FUNCTION picopay_problem(code text, status int, title text, detail text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT '{"type":' || picopay_json('urn:picopay:problem:' || code) || ',"title":' || picopay_json(title)
    || ',"status":' || status || ',"detail":' || picopay_json(detail) || ',"code":' || picopay_json(code) || '}'
$$;
