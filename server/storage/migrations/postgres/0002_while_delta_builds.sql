-- Per product: while a delta is being built, devices come back later (0) or
-- take the full image (1) (issue 16; server/model/fleet.h, WhileDeltaBuilds).
ALTER TABLE products ADD COLUMN while_delta_builds BIGINT NOT NULL DEFAULT 0;
