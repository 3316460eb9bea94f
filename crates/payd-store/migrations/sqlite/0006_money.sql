-- Money rules (SQLite; the PostgreSQL migration makes the same changes).
--
-- * Payments keep what the state machine now needs: whether a partial payment was seen
--   (`partial_seen`), whether the money seen on time covers the amount (`paid_in_time`, so
--   the expiry sweeper can skip it in SQL), and the late part of the money received.
-- * An idempotency key belongs to (merchant, mode, API): a payment's key is unique per
--   dialect, and saved responses are keyed by API too.
-- * Transfers carry their block's timestamp (late or on time is the chain's time) and, when
--   payd did not credit them, a note saying why; cursors carry their block's timestamp (the
--   sweeper waits until a watcher has seen the chain pass a payment's expiry).
--
-- SQLite cannot drop a table constraint, so `payments` and `idempotency_keys` are rebuilt;
-- `Store::migrate` runs SQLite migrations with foreign keys off and checks them afterwards,
-- as SQLite's documented procedure for schema changes requires.

CREATE TABLE payments_new (
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
    partial_seen         BOOLEAN NOT NULL,
    paid_in_time         BOOLEAN NOT NULL,
    received_late        TEXT NOT NULL,
    CONSTRAINT payments_slug_key UNIQUE (slug),
    CONSTRAINT payments_idempotency_key UNIQUE (merchant_id, mode, dialect, idempotency_key)
);
INSERT INTO payments_new (id, merchant_id, mode, dialect, slug, status, underpaid, overpaid, paid_late, price_amount, price_currency, fx_rate, fx_source, fx_quote_currency, fx_quote_amount, token, network, token_decimals, amount_due, confirmations, deposit_address, received_confirmed, received_pending, customer_external_id, customer_email, customer_name, reference, external_id, invoice, description, line_items, metadata, success_url, cancel_url, failure_url, back_url, idempotency_key, client_id, product_id, expires_at, created_at, updated_at, completed_at, version, partial_seen, paid_in_time, received_late)
SELECT id, merchant_id, mode, dialect, slug, status, underpaid, overpaid, paid_late, price_amount, price_currency, fx_rate, fx_source, fx_quote_currency, fx_quote_amount, token, network, token_decimals, amount_due, confirmations, deposit_address, received_confirmed, received_pending, customer_external_id, customer_email, customer_name, reference, external_id, invoice, description, line_items, metadata, success_url, cancel_url, failure_url, back_url, idempotency_key, client_id, product_id, expires_at, created_at, updated_at, completed_at, version,
       status = 'processing' AND underpaid,
       status = 'processing' AND NOT underpaid,
       '0'
FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_list ON payments (merchant_id, mode, created_at DESC, id DESC);
CREATE INDEX payments_reference ON payments (merchant_id, mode, reference);
CREATE INDEX payments_open_by_expiry ON payments (expires_at) WHERE status IN ('pending', 'processing');
CREATE INDEX payments_deposit_address ON payments (deposit_address) WHERE deposit_address IS NOT NULL;

CREATE TABLE idempotency_keys_new (
    merchant_id     TEXT NOT NULL REFERENCES merchants (id),
    mode            TEXT NOT NULL,
    api             TEXT NOT NULL,
    key             TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    payment_id      TEXT REFERENCES payments (id),
    response_status BIGINT NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, mode, api, key)
);
INSERT INTO idempotency_keys_new (merchant_id, mode, api, key, fingerprint, payment_id, response_status,
                                  response_body, created_at)
SELECT i.merchant_id, i.mode, COALESCE(p.dialect, 'native'), i.key, i.fingerprint, i.payment_id,
       i.response_status, i.response_body, i.created_at
FROM idempotency_keys i LEFT JOIN payments p ON p.id = i.payment_id;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;

ALTER TABLE chain_transfers ADD COLUMN block_time BIGINT;
UPDATE chain_transfers SET block_time = created_at;
ALTER TABLE chain_transfers ADD COLUMN note TEXT;
ALTER TABLE chain_cursors ADD COLUMN block_time BIGINT;
