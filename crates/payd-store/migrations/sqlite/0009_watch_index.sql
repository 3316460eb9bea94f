-- What a watcher step loads is bounded by the payments still inside their monitoring window:
-- the live watcher of a network and the devnet watcher (every test payment) each read a
-- range of expiry times, never the whole history.
CREATE INDEX payments_watch_live ON payments (network, expires_at) WHERE mode = 'live' AND deposit_address IS NOT NULL;
CREATE INDEX payments_watch_test ON payments (expires_at) WHERE mode = 'test' AND deposit_address IS NOT NULL;
