-- When each API key last authenticated a request (milliseconds since the epoch), written at
-- most once a minute per key (ApiKey::use_is_news), so a busy key costs no write per request.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
