-- Stolen credentials (issue 15): admin tokens expire, record their last use and
-- can be revoked; a device's tokens end when its secret is replaced or the device
-- is decommissioned (server/services/credentials.h).
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN decommissioned_at INTEGER NOT NULL DEFAULT 0;
-- The token check loads, once, the few devices whose tokens were ever ended.
CREATE INDEX devices_with_ended_tokens ON devices (id)
  WHERE token_generation != 0 OR decommissioned_at != 0;
