-- Money rules (PostgreSQL; the SQLite migration makes the same changes, rebuilding tables).
--
-- * Payments keep what the state machine now needs: whether a partial payment was seen
--   (`partial_seen`), whether the money seen on time covers the amount (`paid_in_time`, so
--   the expiry sweeper can skip it in SQL), and the late part of the money received.
-- * An idempotency key belongs to (merchant, mode, API): a payment's key is unique per
--   dialect, and saved responses are keyed by API too.
-- * Transfers carry their block's timestamp (late or on time is the chain's time) and, when
--   payd did not credit them, a note saying why; cursors carry their block's timestamp (the
--   sweeper waits until a watcher has seen the chain pass a payment's expiry).

ALTER TABLE payments ADD COLUMN partial_seen BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE payments ADD COLUMN paid_in_time BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE payments ADD COLUMN received_late TEXT NOT NULL DEFAULT '0';
UPDATE payments SET partial_seen = (status = 'processing' AND underpaid),
                    paid_in_time = (status = 'processing' AND NOT underpaid);
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_key;
ALTER TABLE payments ADD CONSTRAINT payments_idempotency_key UNIQUE (merchant_id, mode, dialect, idempotency_key);

ALTER TABLE idempotency_keys ADD COLUMN api TEXT;
UPDATE idempotency_keys i SET api = COALESCE((SELECT p.dialect FROM payments p WHERE p.id = i.payment_id), 'native');
ALTER TABLE idempotency_keys ALTER COLUMN api SET NOT NULL;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (merchant_id, mode, api, key);

ALTER TABLE chain_transfers ADD COLUMN block_time BIGINT;
UPDATE chain_transfers SET block_time = created_at;
ALTER TABLE chain_transfers ADD COLUMN note TEXT;
ALTER TABLE chain_cursors ADD COLUMN block_time BIGINT;
