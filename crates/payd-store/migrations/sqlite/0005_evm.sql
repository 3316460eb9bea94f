-- EVM networks: each merchant's extended public key for EVM deposit addresses, a lease per
-- network so one payd node scans it at a time, and the lookup of a client's persistent
-- address (AlpPay clientId). The other backend's migration has the same tables.

ALTER TABLE merchants ADD COLUMN xpub_evm TEXT;

CREATE TABLE chain_leases (
    network    TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX deposit_addresses_client ON deposit_addresses (merchant_id, family, client_id)
    WHERE client_id IS NOT NULL;
