-- How long each patch took to build, for the release page (issue 17); 0 for
-- patches built before this was kept.
ALTER TABLE deltas ADD COLUMN build_ms INTEGER NOT NULL DEFAULT 0;
