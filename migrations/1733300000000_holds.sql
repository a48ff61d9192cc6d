-- Up Migration

-- Holds (authorizations): an amount reserved on an account now, captured (all or part) or released later. The
-- account's `held` is the sum of its pending holds, maintained under the account's row lock by the hold functions
-- (db/functions/picopay_authorize.sql and the others), so the available balance (balance - held) is O(1) to read
-- and to check. A charge may spend only the available balance; the CHECK is the database's own guard.
ALTER TABLE accounts
  ADD COLUMN held bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT accounts_held_within_balance CHECK (held >= 0 AND held <= balance);

CREATE TABLE authorizations (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id      bigint NOT NULL REFERENCES accounts (id),
  user_id         bigint NOT NULL REFERENCES users (id),
  currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- The client whose key made it and that key: a hold belongs to its client (another client's is not found).
  client          text NOT NULL,
  idempotency_key text NOT NULL,
  amount          bigint NOT NULL CHECK (amount > 0 AND amount <= 9007199254740991),
  captured        bigint NOT NULL DEFAULT 0 CHECK (captured >= 0 AND captured <= amount),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'captured', 'voided', 'expired')),
  description     text CHECK (char_length(description) <= 500),
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- When it left 'pending' (captured, voided or expired).
  settled_at      timestamptz,
  CHECK ((status = 'captured') = (captured > 0)),
  CHECK ((status = 'pending') = (settled_at IS NULL))
);
-- Not UNIQUE: once its idempotency record has expired (IDEMPOTENCY_RETENTION) a key is new again and may make another
-- hold; while the record lives, the key's claim guarantees one hold per (client, key).
CREATE INDEX authorizations_client_key ON authorizations (client, idempotency_key);
-- The sweeper's and the lazy expiry's lookups: pending holds by expiry, overall and per account.
CREATE INDEX authorizations_pending_expiry ON authorizations (expires_at) WHERE status = 'pending';
CREATE INDEX authorizations_pending_account ON authorizations (account_id, expires_at) WHERE status = 'pending';

-- Hold and release entries move money between an account's available and held amounts, not its balance: a 'hold'
-- is negative (available drops), a 'release' positive (available comes back); their balance_after is the balance
-- they left unchanged. A capture is a 'charge' entry linked to its hold, so it is refunded like any charge.
ALTER TABLE ledger_entries ADD COLUMN authorization_id bigint REFERENCES authorizations (id);
ALTER TABLE ledger_entries
  DROP CONSTRAINT ledger_entries_type_check,
  DROP CONSTRAINT ledger_entries_amount_sign,
  ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('charge', 'credit', 'refund', 'hold', 'release')),
  ADD CONSTRAINT ledger_entries_amount_sign
    CHECK ((type IN ('charge', 'hold') AND amount < 0) OR (type IN ('credit', 'refund', 'release') AND amount > 0)),
  ADD CONSTRAINT ledger_entries_hold_link CHECK (type NOT IN ('hold', 'release') OR authorization_id IS NOT NULL);
CREATE INDEX ledger_entries_authorization_id ON ledger_entries (authorization_id) WHERE authorization_id IS NOT NULL;

-- The guard trigger (db/functions/picopay_guard_authorization.sql) keeps rows from being deleted and their fixed
-- columns from changing.

-- Down Migration
-- Refuses (the restored checks fail) once hold entries exist: the ledger is append-only.
DROP INDEX ledger_entries_authorization_id;
ALTER TABLE ledger_entries
  DROP CONSTRAINT ledger_entries_hold_link,
  DROP CONSTRAINT ledger_entries_amount_sign,
  DROP CONSTRAINT ledger_entries_type_check,
  ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('charge', 'credit', 'refund')),
  ADD CONSTRAINT ledger_entries_amount_sign
    CHECK ((type = 'charge' AND amount < 0) OR (type IN ('credit', 'refund') AND amount > 0));
ALTER TABLE ledger_entries DROP COLUMN authorization_id;
DROP FUNCTION IF EXISTS picopay_authorize, picopay_capture, picopay_void, picopay_expire_holds,
  picopay_expire_account_holds, picopay_release_hold, picopay_authorization_json, picopay_guard_authorization CASCADE;
DROP TABLE authorizations;
ALTER TABLE accounts DROP CONSTRAINT accounts_held_within_balance, DROP COLUMN held;
