-- What the application role may do: the one place its privileges are written down. Re-applied by src/db/grants.ts
-- after the migrations and the function files, under the migration lock, on every start-up and `migrate`; idempotent.
-- The role's name comes from DATABASE_APP_ROLE (default picopay_app) through the setting picopay.app_role.
--
-- The server's sessions may only:
--   * EXECUTE the money entry points and the purge of expired idempotency records. They are SECURITY DEFINER with a pinned search_path (see their files), so they
--     write as the owner while the caller itself holds no INSERT, UPDATE, DELETE or TRUNCATE on any table;
--   * SELECT users, accounts and ledger_entries, and EXECUTE the renderers, for the read endpoints (GET /users/{id},
--     /users/{id}/transactions, /charges/{id}, /refunds/{id}). Idempotency records, refund totals and the migration
--     bookkeeping stay unreadable: replays come from the money functions.
-- Anything else fails with SQLSTATE 42501 (test/db/app-role.test.ts). The whole block is one statement, so sessions
-- of running instances see the old privileges or the new ones, never the revoked state in between.
DO $grants$
DECLARE
  app text := current_setting('picopay.app_role');
  app_schema text := current_schema();
  fn regprocedure;
BEGIN
  IF app = session_user OR app = current_user THEN
    RAISE EXCEPTION 'DATABASE_APP_ROLE (%) must not be the role that migrates (it owns the tables)', app;
  END IF;
  -- PostgreSQL lets PUBLIC execute every new function: none of PicoPay's may be called by anyone not granted here.
  FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = app_schema::regnamespace AND p.proname LIKE 'picopay\_%' LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
  END LOOP;

  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN', app);
    EXCEPTION
      -- Roles are cluster-wide: the migrator of another database on this server may have just created it.
      WHEN duplicate_object OR unique_violation THEN NULL;
      -- A migrator without CREATEROLE: the operator creates the role (docs/DEPLOY.md); until then nothing to grant.
      WHEN insufficient_privilege THEN RETURN;
    END;
  END IF;
  IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = app) THEN
    RAISE EXCEPTION 'DATABASE_APP_ROLE (%) is a superuser or bypasses row security: not least privilege', app;
  END IF;

  -- From nothing, so a privilege removed from this file is removed from the database.
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', app_schema, app);
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', app_schema, app);
  FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = app_schema::regnamespace AND p.proname LIKE 'picopay\_%' LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', fn, app);
  END LOOP;

  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', app_schema, app);
  -- Money entry points (SECURITY DEFINER).
  EXECUTE format('GRANT EXECUTE ON FUNCTION picopay_charge, picopay_charge_batch, picopay_credit, picopay_refund,
                  picopay_create_user TO %I', app);
  -- The server's purge of expired idempotency records (SECURITY DEFINER; deletes only what has expired).
  EXECUTE format('GRANT EXECUTE ON FUNCTION picopay_purge_keys TO %I', app);
  -- Holds: authorize, capture, void, and the server's sweeper of expired holds (all SECURITY DEFINER).
  EXECUTE format('GRANT EXECUTE ON FUNCTION picopay_authorize, picopay_capture, picopay_void, picopay_expire_holds
                  TO %I', app);
  -- Events: the server's sequencer publishes committed events, the purge deletes those past EVENT_RETENTION
  -- (SECURITY DEFINER).
  EXECUTE format('GRANT EXECUTE ON FUNCTION picopay_sequence_events, picopay_purge_events TO %I', app);
  -- Webhooks: the admin API's create and delete, the relay's claim, record and release, and its purge of old
  -- attempts (all SECURITY DEFINER).
  EXECUTE format('GRANT EXECUTE ON FUNCTION picopay_webhook_create, picopay_webhook_delete, picopay_webhook_claim,
                  picopay_webhook_record, picopay_webhook_record_delivered, picopay_webhook_release,
                  picopay_webhook_purge_attempts TO %I', app);
  -- The admin API reads endpoints (every column but the signing secret, which only the relay's claim returns) and
  -- their attempt log.
  EXECUTE format('GRANT SELECT (id, url, description, event_types, created_by, created_at, delivered_seq, failures,
                  failing_since, next_attempt_at, disabled_at, disabled_reason, lease_owner, lease_until)
                  ON TABLE webhook_endpoints TO %I', app);
  EXECUTE format('GRANT SELECT ON TABLE webhook_attempts TO %I', app);
  -- Read paths (SECURITY INVOKER renderers over the readable tables; GET /events reads events).
  EXECUTE format('GRANT SELECT ON TABLE users, accounts, ledger_entries, authorizations, events TO %I', app);
  EXECUTE format('GRANT EXECUTE ON FUNCTION picopay_user_json, picopay_transaction_json, picopay_entry_json,
                  picopay_redacted, picopay_json, picopay_major, picopay_timestamp, picopay_authorization_json TO %I',
                 app);

  -- Single-URL mode: the migrating login switches its server sessions to the role (SET ROLE), which needs
  -- membership. Granted when allowed (a CREATEROLE login that created the role); a superuser needs none.
  -- PostgreSQL 16 separates the right to SET ROLE from membership (a CREATEROLE creator holds only ADMIN OPTION).
  IF NOT pg_has_role(session_user, app,
                     CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) THEN
    BEGIN
      EXECUTE format('GRANT %I TO %I', app, session_user);
    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN NULL;
    END;
  END IF;
END $grants$;
