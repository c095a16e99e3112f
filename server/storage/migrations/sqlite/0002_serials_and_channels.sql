-- EnOS sub-devices (docs/api/enos.md): a device's serial number, a release's
-- free-text EnOS version, and the protocol each deployment went out over, so
-- the EnOS limit on concurrent upgrades counts only its own.
ALTER TABLE devices ADD COLUMN serial TEXT NOT NULL DEFAULT '';
-- A serial names one device: an EnOS sub-device that sends no assetId is found by it.
CREATE UNIQUE INDEX devices_by_serial ON devices (serial) WHERE serial != '';
ALTER TABLE releases ADD COLUMN enos_version TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN channel TEXT NOT NULL DEFAULT '';
-- The EnOS limit counts a product's deployments in flight over one channel.
CREATE INDEX deployments_by_channel ON deployments (channel, state, updated_at);
