-- A per-user token version, carried in every access and refresh token and checked on every
-- request: changing a password bumps it, so every token issued before stops working at once.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
