-- Holds are append-only-ish, whoever connects: a row is never deleted, its fixed columns (who, what, how much, until
-- when) never change, and its status only leaves 'pending', once. The hold functions are the only writers.
CREATE OR REPLACE FUNCTION picopay_guard_authorization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'authorizations rows are never removed (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.status <> 'pending' OR NEW.id <> OLD.id OR NEW.account_id <> OLD.account_id OR NEW.user_id <> OLD.user_id
     OR NEW.currency <> OLD.currency OR NEW.client <> OLD.client OR NEW.idempotency_key <> OLD.idempotency_key
     OR NEW.amount <> OLD.amount OR NEW.description IS DISTINCT FROM OLD.description
     OR NEW.metadata <> OLD.metadata OR NEW.created_at <> OLD.created_at THEN
    RAISE EXCEPTION 'authorization % may only settle once, from pending', OLD.id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER authorizations_guard BEFORE UPDATE OR DELETE ON authorizations
  FOR EACH ROW EXECUTE FUNCTION picopay_guard_authorization();
CREATE OR REPLACE TRIGGER authorizations_no_truncate BEFORE TRUNCATE ON authorizations
  FOR EACH STATEMENT EXECUTE FUNCTION picopay_guard_authorization();
