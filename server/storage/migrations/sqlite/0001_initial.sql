-- The first schema (model: server/model/*.h). Enums are stored as their integer
-- values; lists that are only ever read whole are JSON text. Times are Unix seconds.

CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  profile INTEGER NOT NULL,
  slot_size INTEGER NOT NULL,
  sector_size INTEGER NOT NULL,
  provisioning_secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products (id),
  hardware TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  version TEXT NOT NULL,
  image_sha256 TEXT NOT NULL,
  slot INTEGER NOT NULL,
  battery_percent INTEGER NOT NULL,
  network TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  registered_at INTEGER NOT NULL
);
-- Campaign targeting and device lists filter by product, then hardware, then version.
CREATE INDEX devices_by_model ON devices (product_id, hardware, version);

-- A set per device: a device lists its tags by the primary key, a tag lists its
-- devices by the second index.
CREATE TABLE device_tags (
  device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (device_id, tag)
) WITHOUT ROWID;
CREATE INDEX device_tags_by_tag ON device_tags (tag, device_id);

CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products (id),
  version TEXT NOT NULL,
  security_counter INTEGER NOT NULL,
  hardware TEXT NOT NULL,  -- JSON array of hardware ids
  allow_downgrade INTEGER NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  notes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (product_id, version)
);
-- Check-in finds the release a device runs from its image hash.
CREATE INDEX releases_by_image ON releases (product_id, sha256);

CREATE TABLE deltas (
  from_sha256 TEXT NOT NULL,
  to_sha256 TEXT NOT NULL,
  profile INTEGER NOT NULL,
  state INTEGER NOT NULL,
  size INTEGER NOT NULL,
  error TEXT NOT NULL,
  hits INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  PRIMARY KEY (from_sha256, to_sha256, profile)
) WITHOUT ROWID;

CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  product_id INTEGER NOT NULL REFERENCES products (id),
  release_id INTEGER NOT NULL REFERENCES releases (id),
  target TEXT NOT NULL,              -- JSON TargetSelector
  phases TEXT NOT NULL,              -- JSON array of PhaseSpec
  success_threshold REAL NOT NULL,
  failure_threshold REAL NOT NULL,
  maintenance_window TEXT NOT NULL,  -- JSON MaintenanceWindow
  max_concurrent_downloads INTEGER NOT NULL,
  force INTEGER NOT NULL,
  state INTEGER NOT NULL,
  current_phase INTEGER NOT NULL,
  pause_reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);

CREATE TABLE deployments (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
  device_id TEXT NOT NULL REFERENCES devices (id),
  phase INTEGER NOT NULL,
  state INTEGER NOT NULL,
  progress INTEGER NOT NULL,
  error INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  artifact_kind TEXT NOT NULL,
  from_sha256 TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
-- A campaign's progress counts its deployments per state.
CREATE INDEX deployments_by_campaign ON deployments (campaign_id, state);
-- Every check-in looks up the device's open deployment.
CREATE INDEX deployments_by_device ON deployments (device_id, state);

-- Newest first is a walk down the rowid, which needs no extra index.
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  details TEXT NOT NULL
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  role INTEGER NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
