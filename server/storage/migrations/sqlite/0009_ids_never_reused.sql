-- Products, releases and campaigns can be deleted (issue 17). SQLite gives a new
-- row the largest id plus one, so deleting the newest would hand its id to the
-- next: the audit log, a console link or a script would then name another record.
-- AUTOINCREMENT never reuses an id (PostgreSQL's sequences never do), and SQLite
-- cannot add it to a table, so each table is rebuilt: a new one filled from it,
-- the old one dropped and the new one given its name (SqliteStore migrates with
-- foreign keys off, as SQLite requires for this, and checks them all before the
-- migration commits).

CREATE TABLE products_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  profile INTEGER NOT NULL,
  slot_size INTEGER NOT NULL,
  sector_size INTEGER NOT NULL,
  provisioning_secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  while_delta_builds INTEGER NOT NULL DEFAULT 0
);
INSERT INTO products_new (id, name, profile, slot_size, sector_size, provisioning_secret_hash,
                      created_at, while_delta_builds)
  SELECT id, name, profile, slot_size, sector_size, provisioning_secret_hash, created_at,
         while_delta_builds FROM products;
DROP TABLE products;
ALTER TABLE products_new RENAME TO products;

CREATE TABLE releases_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  product_id INTEGER NOT NULL REFERENCES products (id),
  version TEXT NOT NULL,
  security_counter INTEGER NOT NULL,
  hardware TEXT NOT NULL,  -- JSON array of hardware ids
  allow_downgrade INTEGER NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  notes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  enos_version TEXT NOT NULL DEFAULT '',
  UNIQUE (product_id, version)
);
INSERT INTO releases_new (id, product_id, version, security_counter, hardware, allow_downgrade, size,
                      sha256, notes, created_at, enos_version)
  SELECT id, product_id, version, security_counter, hardware, allow_downgrade, size, sha256, notes,
         created_at, enos_version FROM releases;
DROP TABLE releases;
ALTER TABLE releases_new RENAME TO releases;
CREATE INDEX releases_by_image ON releases (product_id, sha256);

CREATE TABLE campaigns_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  finished_at INTEGER NOT NULL,
  allow_downgrade INTEGER NOT NULL DEFAULT 0,
  deployment_timeout INTEGER NOT NULL DEFAULT 0,
  start_at INTEGER NOT NULL DEFAULT 0,
  dynamic INTEGER NOT NULL DEFAULT 0
);
INSERT INTO campaigns_new (id, name, product_id, release_id, target, phases, success_threshold,
                       failure_threshold, maintenance_window, max_concurrent_downloads, force,
                       state, current_phase, pause_reason, created_by, created_at, started_at,
                       finished_at, allow_downgrade, deployment_timeout, start_at, dynamic)
  SELECT id, name, product_id, release_id, target, phases, success_threshold, failure_threshold,
         maintenance_window, max_concurrent_downloads, force, state, current_phase, pause_reason,
         created_by, created_at, started_at, finished_at, allow_downgrade, deployment_timeout,
         start_at, dynamic FROM campaigns;
DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;

