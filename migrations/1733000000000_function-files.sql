-- Up Migration

-- Function bodies leave the versioned migrations: each function's current definition is one file in db/functions/,
-- applied after the migrations whenever its checksum changes (src/db/migrate.ts). This table records what was applied.
CREATE TABLE picopay_function_files (
  name       text PRIMARY KEY,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- A lone charge is now a batch of one (db/functions/picopay_charge.sql calls picopay_charge_batch), so the debit
-- helper of the old single-charge implementation has no caller.
DROP FUNCTION IF EXISTS picopay_debit(text, text, bigint, text, bigint, text, jsonb);

-- Down Migration
-- Functions are forward-only: going below this version drops them all (their triggers with them), with the record of
-- what was applied; migrating up again re-creates them from db/functions/.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE 'picopay\_%' LOOP
    EXECUTE format('DROP FUNCTION %s CASCADE', f);
  END LOOP;
END $$;
DROP TABLE picopay_function_files;
