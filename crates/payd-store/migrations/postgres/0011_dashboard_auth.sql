-- The dashboard's account security and user management: an optional TOTP second factor with
-- its recovery codes, the short-lived state between a login's password and its code, and
-- invitations. Times are Unix milliseconds like everywhere else.

-- One row per user who set up TOTP. The secret is sealed under the master key (like signing
-- secrets): a database dump alone computes no code. `enabled_at` is NULL while the set-up
-- waits for its first correct code. `last_step` is the newest time step a code was accepted
-- for: a code of that step or an older one is refused, so a seen code cannot be replayed.
CREATE TABLE user_totp (
    user_id        TEXT PRIMARY KEY REFERENCES users (id),
    secret_sealed  TEXT NOT NULL,
    enabled_at     BIGINT,
    last_step      BIGINT NOT NULL DEFAULT -1,
    created_at     BIGINT NOT NULL
);

-- Recovery codes, kept as HMACs under a key derived from the master key; each usable once.
CREATE TABLE user_recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A login whose password was right and whose second factor is awaited. Only the SHA-256 of
-- the browser's token is kept; `failures` ends the challenge after a few wrong codes.
CREATE TABLE login_challenges (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    failures    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

-- An invitation to become a user. Only the SHA-256 of its link's token is kept. `invited_by`
-- is the inviter's email, not a reference: the inviter may be removed before it is used.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL,
    account_id   TEXT REFERENCES accounts (id),
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('operator', 'admin', 'viewer')),
    invited_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT,
    revoked_at   BIGINT,
    CONSTRAINT invitations_token_key UNIQUE (token_hash),
    CONSTRAINT invitations_account_check CHECK (role = 'operator' OR account_id IS NOT NULL)
);
CREATE INDEX invitations_account ON invitations (account_id, created_at);
