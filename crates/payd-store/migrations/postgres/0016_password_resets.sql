-- Password reset links an admin or an operator makes for a user (payd sends no email: the
-- link is handed over by hand). Only the SHA-256 of the link's token is kept; a link works
-- once (`used_at`) and until `expires_at`, and a newer link for the same user replaces the
-- older. `created_by` is the creator's email, not a reference: they may be removed first.
-- Times are Unix milliseconds like everywhere else.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
