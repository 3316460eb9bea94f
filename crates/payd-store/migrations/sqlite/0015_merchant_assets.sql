-- The (token, network) pairs a merchant offers at checkout (dashboard settings, `payd
-- merchant configure --assets`). No row for a merchant: every asset the instance offers,
-- as before this table existed, so existing merchants do not change. Names are stored as
-- the registry and payd.toml spell them (`USDC`, `base`). The other backend's migration is
-- the same.
CREATE TABLE merchant_assets (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    token       TEXT NOT NULL,
    network     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, token, network)
);
