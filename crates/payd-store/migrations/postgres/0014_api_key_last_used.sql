-- When each API key last authenticated a request (milliseconds since the epoch), written at
-- most once a minute per key (ApiKey::use_is_news), so a busy key costs no write per request.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;

-- Each payd node caches API keys (keycache.rs) and empties its cache when told that a key's
-- authenticating columns changed or a key went away; "last used" is bookkeeping and tells
-- nobody. A revocation in SQL notifies like one made by payd.
CREATE FUNCTION payd_api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('payd_api_keys', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_keys_changed
    AFTER UPDATE OF account_id, merchant_id, mode, scopes, key_hash, prefix, signing_secret_sealed,
        revoked_at, created_at, id
    OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER api_keys_truncated
    AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();
