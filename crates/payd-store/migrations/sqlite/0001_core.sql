-- payd core schema (SQLite). Times are Unix milliseconds (BIGINT), money is exact text:
-- fiat as decimal strings, token amounts as base-unit integers in decimal text (u128 does
-- not fit a 64-bit column). The PostgreSQL migration has the same tables and constraints.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE merchants (
    id                        TEXT PRIMARY KEY,
    account_id                TEXT NOT NULL REFERENCES accounts (id),
    name                      TEXT NOT NULL CHECK (length(name) > 0),
    email                     TEXT,
    site_url                  TEXT,
    logo_url                  TEXT,
    status                    TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    settlement_token          TEXT,
    settlement_network        TEXT,
    underpayment_tolerance_bp BIGINT NOT NULL DEFAULT 0 CHECK (underpayment_tolerance_bp BETWEEN 0 AND 10000),
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE INDEX merchants_account ON merchants (account_id);

CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts (id),
    merchant_id           TEXT REFERENCES merchants (id),
    mode                  TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    scopes                TEXT NOT NULL,
    key_hash              TEXT NOT NULL,
    prefix                TEXT NOT NULL,
    signing_secret_sealed TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    revoked_at            BIGINT,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);

CREATE TABLE payments (
    id                   TEXT PRIMARY KEY,
    merchant_id          TEXT NOT NULL REFERENCES merchants (id),
    mode                 TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    dialect              TEXT NOT NULL,
    slug                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'expired', 'cancelled')),
    underpaid            BOOLEAN NOT NULL,
    overpaid             BOOLEAN NOT NULL,
    paid_late            BOOLEAN NOT NULL,
    price_amount         TEXT NOT NULL,
    price_currency       TEXT NOT NULL,
    fx_rate              TEXT,
    fx_source            TEXT,
    fx_quote_currency    TEXT,
    fx_quote_amount      TEXT,
    token                TEXT,
    network              TEXT,
    token_decimals       BIGINT,
    amount_due           TEXT,
    confirmations        BIGINT,
    deposit_address      TEXT,
    received_confirmed   TEXT NOT NULL,
    received_pending     TEXT NOT NULL,
    customer_external_id TEXT,
    customer_email       TEXT,
    customer_name        TEXT,
    reference            TEXT,
    external_id          TEXT,
    invoice              TEXT,
    description          TEXT,
    line_items           TEXT NOT NULL,
    metadata             TEXT NOT NULL,
    success_url          TEXT,
    cancel_url           TEXT,
    failure_url          TEXT,
    back_url             TEXT,
    idempotency_key      TEXT,
    client_id            TEXT,
    product_id           TEXT,
    expires_at           BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    completed_at         BIGINT,
    version              BIGINT NOT NULL,
    CONSTRAINT payments_slug_key UNIQUE (slug),
    CONSTRAINT payments_idempotency_key UNIQUE (merchant_id, mode, idempotency_key)
);
CREATE INDEX payments_list ON payments (merchant_id, mode, created_at DESC, id DESC);
CREATE INDEX payments_reference ON payments (merchant_id, mode, reference);
CREATE INDEX payments_open_by_expiry ON payments (expires_at) WHERE status IN ('pending', 'processing');

-- The outbox: one row per event, written in the transaction that made the change.
CREATE TABLE payment_events (
    id          TEXT PRIMARY KEY,
    payment_id  TEXT NOT NULL REFERENCES payments (id),
    merchant_id TEXT NOT NULL,
    mode        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    sequence    BIGINT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT payment_events_sequence_key UNIQUE (payment_id, sequence, kind)
);
CREATE INDEX payment_events_created ON payment_events (created_at);

-- Saved responses of idempotent requests, replayed byte for byte.
CREATE TABLE idempotency_keys (
    merchant_id     TEXT NOT NULL REFERENCES merchants (id),
    mode            TEXT NOT NULL,
    key             TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    payment_id      TEXT REFERENCES payments (id),
    response_status BIGINT NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, mode, key)
);
