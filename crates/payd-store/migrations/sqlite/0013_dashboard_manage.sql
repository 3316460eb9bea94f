-- Test events: a delivery no longer always hangs off a payment's event. A test event is sent
-- to one endpoint on request (the dashboard's "Send test event"), signed and retried like any
-- other delivery and kept in the same delivery log, so it proves the whole path. Its payload
-- is a sample payment (not a row of `payments`: it must never show in lists or totals).
CREATE TABLE webhook_test_events (
    id          TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    mode        TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    -- The sample payment's id (it is in the payload too), so the log can name it.
    payment_id  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A delivery is of exactly one payment event or one test event. SQLite cannot drop NOT NULL,
-- so the table is rebuilt (foreign keys are off during migrations, checked after them).
CREATE TABLE webhook_deliveries_new (
    id               TEXT PRIMARY KEY,
    event_id         TEXT REFERENCES payment_events (id),
    test_event_id    TEXT REFERENCES webhook_test_events (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_name       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'delivered', 'failed', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_token      TEXT,
    lease_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    CONSTRAINT webhook_deliveries_event_endpoint_key UNIQUE (event_id, endpoint_id),
    CONSTRAINT webhook_deliveries_one_event CHECK ((event_id IS NULL) <> (test_event_id IS NULL))
);
INSERT INTO webhook_deliveries_new (id, event_id, endpoint_id, event_name, status, attempts, next_attempt_at,
                                    lease_token, lease_expires_at, created_at, updated_at)
SELECT id, event_id, endpoint_id, event_name, status, attempts, next_attempt_at, lease_token, lease_expires_at,
       created_at, updated_at
FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'failed', 'delivering');
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_test_event ON webhook_deliveries (test_event_id) WHERE test_event_id IS NOT NULL;

-- A merchant's checkout branding: the name shown instead of its own, an accent colour
-- (`#rrggbb`, contrast-checked by the engine), and a logo kept here (PNG, JPEG or WebP, at
-- most 64 KiB) so the checkout serves it from payd under its SHA-256 (no third-party image).
CREATE TABLE merchant_branding (
    merchant_id  TEXT PRIMARY KEY REFERENCES merchants (id),
    display_name TEXT,
    accent       TEXT,
    logo         BLOB,
    logo_type    TEXT,
    logo_digest  TEXT,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT merchant_branding_logo_whole
        CHECK ((logo IS NULL) = (logo_digest IS NULL) AND (logo IS NULL) = (logo_type IS NULL))
);
CREATE INDEX merchant_branding_logo ON merchant_branding (logo_digest) WHERE logo_digest IS NOT NULL;
