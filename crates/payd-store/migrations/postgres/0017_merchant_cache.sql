-- Each payd node caches, beside each API key, the merchants the key acts for (keycache.rs).
-- Any change of the merchants table (a suspension, a merchant added to an account, a setting)
-- tells every node to empty that cache, through the channel the key triggers use. Merchants
-- change rarely, so emptying the whole cache costs nothing that matters.
-- (SQLite has one node and no cache: it has no counterpart of this migration.)
CREATE TRIGGER merchants_changed
    AFTER INSERT OR UPDATE OR DELETE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();

CREATE TRIGGER merchants_truncated
    AFTER TRUNCATE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION payd_api_keys_changed();
