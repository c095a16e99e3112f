-- The Mender device API (issue 18, docs/api/mender.md).
-- A release made from a .mender file keeps the artifact's name: what Mender
-- clients report as the software they run ('' for an Updraft image).
ALTER TABLE releases ADD COLUMN mender_artifact_name TEXT NOT NULL DEFAULT '';
-- Authentication sets: an identity (the client's id_data, canonical JSON) with a
-- public key, pending until an operator accepts or rejects it, or preauthorized.
-- Accepting one names the Updraft device it becomes.
CREATE TABLE mender_auth_sets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  id_data TEXT NOT NULL,
  pubkey TEXT NOT NULL,
  status INTEGER NOT NULL,
  device_id TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (id_data, pubkey)
);
CREATE INDEX mender_auth_sets_by_status ON mender_auth_sets (status, id);
-- Inventory attributes a device reports, one row per name; value is JSON.
CREATE TABLE device_inventory (
  device_id TEXT NOT NULL REFERENCES devices (id),
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, name)
);
CREATE INDEX device_inventory_by_attribute ON device_inventory (name, value);
