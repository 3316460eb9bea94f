-- Products (AstraPay `product_id`) and customers (Paygentic `customerId`), per merchant and
-- mode. The PostgreSQL migration has the same tables.

CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id),
    mode          TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    name          TEXT NOT NULL,
    description   TEXT,
    price         TEXT NOT NULL,
    currency_type TEXT NOT NULL CHECK (currency_type IN ('FIAT', 'CRYPTO')),
    token         TEXT,
    network       TEXT,
    active        BOOLEAN NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX products_merchant ON products (merchant_id, mode, created_at);

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    mode        TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    external_id TEXT,
    email       TEXT,
    name        TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX customers_merchant ON customers (merchant_id, mode, created_at);

-- Per-merchant settings the dialects need: a minimum payment (MutoPay's channel minimum).
ALTER TABLE merchants ADD COLUMN min_amount_usd TEXT;
