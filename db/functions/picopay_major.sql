-- Major units as an exact numeric: 4990,2 -> 49.9; 5000,2 -> 50.0; 500,0 -> 500.
-- Not STRICT: PostgreSQL never inlines a STRICT function with a CASE body, and it returns NULL for NULL inputs anyway.
CREATE OR REPLACE FUNCTION picopay_major(minor bigint, exponent smallint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN exponent = 0 THEN minor::numeric
    WHEN scale(trim_scale(minor::numeric / 10::numeric ^ exponent)) = 0 THEN round(minor::numeric / 10::numeric ^ exponent, 1)
    ELSE trim_scale(minor::numeric / 10::numeric ^ exponent)
  END
$$;
