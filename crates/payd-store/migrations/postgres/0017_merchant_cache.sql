-- Each payd node caches, beside each API key, the merchants the key acts for, and each
-- merchant's checkout assets and extended public keys (keycache.rs). Any change of the
-- merchants table (a suspension, a merchant added to an account, a setting), of
-- merchant_assets or of merchant_xpubs tells every node to empty that cache, through the
-- channel the key triggers use. These change rarely, so emptying the whole cache costs
-- nothing that matters.
-- (SQLite has one node and no cache: it has no counterpart of this migration.)
CREATE TRIGGER merchants_changed
    AFTER INSERT OR UPDATE OR DELETE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER merchants_truncated
    AFTER TRUNCATE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER merchant_assets_changed
    AFTER INSERT OR UPDATE OR DELETE ON merchant_assets
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER merchant_assets_truncated
    AFTER TRUNCATE ON merchant_assets
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER merchant_xpubs_changed
    AFTER INSERT OR UPDATE OR DELETE ON merchant_xpubs
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER merchant_xpubs_truncated
    AFTER TRUNCATE ON merchant_xpubs
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();
