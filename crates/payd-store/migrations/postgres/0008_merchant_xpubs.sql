-- Each merchant's extended public keys, one per chain family (evm today; tron, solana
-- later), instead of one column per family on merchants. The EVM keys set so far move over.
-- The SQLite migration is the same.
CREATE TABLE merchant_xpubs (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    family      TEXT NOT NULL,
    xpub        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, family)
);

INSERT INTO merchant_xpubs (merchant_id, family, xpub, updated_at)
SELECT id, 'evm', xpub_evm, updated_at FROM merchants WHERE xpub_evm IS NOT NULL;

ALTER TABLE merchants DROP COLUMN xpub_evm;
