-- JSON text of one value (null for NULL); the building block of the compact renderers.
-- STABLE like to_json inside it, so it is inlined into its callers' expressions.
CREATE OR REPLACE FUNCTION picopay_json(v anyelement) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(to_json(v)::text, 'null')
$$;
