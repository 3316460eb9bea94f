-- The merchant dashboard: its users, their server-side sessions, and the audit log of every
-- change made through it (or the CLI). Times are Unix milliseconds like everywhere else.

-- Operators have no account (they see every one); admins and viewers belong to one.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    account_id     TEXT REFERENCES accounts (id),
    email          TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('operator', 'admin', 'viewer')),
    -- Argon2id in PHC string form (algorithm, parameters and salt travel with the hash).
    password_hash  TEXT NOT NULL,
    failed_logins  BIGINT NOT NULL DEFAULT 0,
    locked_until   BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_account_check CHECK (role = 'operator' OR account_id IS NOT NULL)
);

-- Only the SHA-256 of a session's token is stored: a copy of this table opens no session.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Who did what, when, to what. user_id is NULL for the CLI (actor says so); account_id is
-- the account the target belongs to, so an account's admins can be shown their own log.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    user_id     TEXT REFERENCES users (id),
    actor       TEXT NOT NULL,
    account_id  TEXT,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_account ON audit_log (account_id, at);

-- The dashboard's search finds a payment by the hash of a transfer to it, on any network.
CREATE INDEX chain_transfers_tx_hash ON chain_transfers (tx_hash);
