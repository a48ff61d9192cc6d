-- Up Migration
-- This version introduced the renderers moving from LANGUAGE sql to plpgsql. It changed function bodies only, and every function's current
-- definition now lives in db/functions/ (one file each, applied after the versioned migrations by src/db/migrate.ts),
-- so nothing is left to do here. The file stays so that databases which recorded it keep their history.

-- Down Migration
