-- Up Migration

-- Users own accounts; accounts hold one balance per currency in integer minor units.
CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text CHECK (char_length(name) <= 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- ISO 4217 exponent, fixed when the account is opened; lets SQL render major units exactly.
  exponent   smallint NOT NULL CHECK (exponent BETWEEN 0 AND 4),
  -- 2^53-1: every balance stays an exact JSON number for every client.
  balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0 AND balance <= 9007199254740991),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, currency)
);

-- Append-only: one row per balance change, signed amount, balance after the change.
CREATE TABLE ledger_entries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id      bigint NOT NULL REFERENCES accounts (id),
  user_id         bigint NOT NULL REFERENCES users (id),
  type            text NOT NULL CHECK (type IN ('charge', 'credit')),
  amount          bigint NOT NULL,
  balance_after   bigint NOT NULL CHECK (balance_after >= 0),
  client          text,
  idempotency_key text,
  description     text CHECK (char_length(description) <= 500),
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'charge' AND amount < 0) OR (type = 'credit' AND amount > 0)),
  CHECK ((client IS NULL) = (idempotency_key IS NULL))
);
CREATE INDEX ledger_entries_user_id_id ON ledger_entries (user_id, id DESC);
CREATE INDEX ledger_entries_account_id ON ledger_entries (account_id);

-- One row per (client, Idempotency-Key): the request's fingerprint and the final response, byte for byte.
-- Rows are inserted first (the insert is the lock that makes racing requests wait) and completed in the same
-- transaction, so a committed row always carries its response.
CREATE TABLE idempotency_keys (
  client          text NOT NULL,
  key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  operation       text NOT NULL,
  fingerprint     bytea NOT NULL,
  response_status smallint,
  response_code   text,
  response_body   text,
  ledger_entry_id bigint UNIQUE REFERENCES ledger_entries (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client, key)
);

-- Functions and triggers are not versioned here: each has one file in db/functions/, applied after the migrations
-- (src/db/migrate.ts).

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE ledger_entries;
DROP TABLE accounts;
DROP TABLE users;
