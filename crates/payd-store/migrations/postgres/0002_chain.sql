-- payd chain engine (PostgreSQL; the SQLite migration has the same tables and constraints).
-- Block numbers and indexes are BIGINT; token amounts are base-unit integers in decimal text.

-- Derivation index allocation: one counter per extended public key (devnet's built-in key is
-- one of them), bumped in one statement so two nodes never hand out the same index.
CREATE TABLE address_counters (
    key_id      TEXT PRIMARY KEY,
    next_index  BIGINT NOT NULL
);

-- Every address payd derived, with the payment (or AlpPay client) it was made for.
CREATE TABLE deposit_addresses (
    address          TEXT NOT NULL,
    family           TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    derivation_index BIGINT NOT NULL CHECK (derivation_index >= 0),
    merchant_id      TEXT NOT NULL REFERENCES merchants (id),
    payment_id       TEXT,
    client_id        TEXT,
    created_at       BIGINT NOT NULL,
    CONSTRAINT deposit_addresses_address_key UNIQUE (address),
    CONSTRAINT deposit_addresses_index_key UNIQUE (key_id, derivation_index)
);

-- Watchers look payments up by their address.
CREATE INDEX payments_deposit_address ON payments (deposit_address) WHERE deposit_address IS NOT NULL;

-- Each watcher's position: the last block fully processed.
CREATE TABLE chain_cursors (
    network      TEXT PRIMARY KEY,
    block_number BIGINT NOT NULL,
    block_hash   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Hashes of recent blocks, compared with the canonical chain to detect reorgs.
CREATE TABLE chain_blocks (
    network      TEXT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   TEXT NOT NULL,
    PRIMARY KEY (network, block_number)
);

-- Observed token transfers: each credited at most once, keyed by (network, tx hash, log
-- index). payment_id NULL means unattributed (unknown address, or past its window).
CREATE TABLE chain_transfers (
    network      TEXT NOT NULL,
    tx_hash      TEXT NOT NULL,
    log_index    BIGINT NOT NULL,
    token        TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address   TEXT NOT NULL,
    amount       TEXT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('seen', 'confirmed', 'orphaned')),
    payment_id   TEXT REFERENCES payments (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT chain_transfers_key UNIQUE (network, tx_hash, log_index)
);
CREATE INDEX chain_transfers_payment ON chain_transfers (payment_id, network);
CREATE INDEX chain_transfers_open ON chain_transfers (network, status, block_number);

-- devnet, the simulated chain of test mode: its blocks and its transfer log live here so
-- that any process (`payd devnet pay`) can submit a transfer the server's devnet mines.
CREATE TABLE devnet_blocks (
    block_number BIGINT PRIMARY KEY,
    block_hash   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- block_number NULL: in the mempool, mined by the next block.
CREATE TABLE devnet_transfers (
    tx_hash      TEXT PRIMARY KEY,
    token        TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address   TEXT NOT NULL,
    amount       TEXT NOT NULL,
    block_number BIGINT,
    log_index    BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX devnet_transfers_block ON devnet_transfers (block_number);
CREATE INDEX devnet_transfers_to ON devnet_transfers (to_address);
