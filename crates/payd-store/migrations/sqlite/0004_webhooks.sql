-- Webhooks (SQLite): endpoints, one delivery per (event, endpoint) written in the transaction
-- that wrote the event, and every attempt. The PostgreSQL migration has the same tables.

CREATE TABLE webhook_endpoints (
    id                         TEXT PRIMARY KEY,
    merchant_id                TEXT NOT NULL REFERENCES merchants (id),
    mode                       TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    url                        TEXT NOT NULL,
    description                TEXT,
    -- Comma-separated event kinds; empty means every kind.
    events                     TEXT NOT NULL,
    format                     TEXT NOT NULL CHECK (format IN ('native', 'astrapay', 'paygentic', 'mutopay', 'alppay')),
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT,
    -- Sealed under the master key: the secret must stay usable for signing.
    secret_sealed              TEXT NOT NULL,
    previous_secret_sealed     TEXT,
    previous_secret_expires_at BIGINT,
    failing_since              BIGINT,
    deleted                    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, mode);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES payment_events (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_name       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'delivered', 'failed', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_token      TEXT,
    lease_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    CONSTRAINT webhook_deliveries_event_endpoint_key UNIQUE (event_id, endpoint_id)
);
-- What the dispatcher claims: due deliveries, oldest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'failed', 'delivering');
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id),
    at               BIGINT NOT NULL,
    status_code      BIGINT,
    latency_ms       BIGINT NOT NULL,
    error            TEXT,
    response_snippet TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
