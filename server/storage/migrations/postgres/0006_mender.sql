-- The Mender device API (issue 18, docs/api/mender.md). As sqlite/0010_mender.sql.
ALTER TABLE releases ADD COLUMN mender_artifact_name TEXT NOT NULL DEFAULT '';
CREATE TABLE mender_auth_sets (
  id BIGSERIAL PRIMARY KEY,
  id_data TEXT COLLATE "C" NOT NULL,
  pubkey TEXT COLLATE "C" NOT NULL,
  status BIGINT NOT NULL,
  device_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (id_data, pubkey)
);
CREATE INDEX mender_auth_sets_by_status ON mender_auth_sets (status, id);
CREATE TABLE device_inventory (
  device_id TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
  name TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, name)
);
CREATE INDEX device_inventory_by_attribute ON device_inventory (name, value);
