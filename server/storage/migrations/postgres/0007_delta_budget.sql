-- Per product: how long devices wait for a delta build before they are offered
-- the full image, in seconds; 0 waits as long as the build takes (issue 19;
-- server/model/fleet.h, Product::delta_budget_seconds).
ALTER TABLE products ADD COLUMN delta_budget_seconds BIGINT NOT NULL DEFAULT 0;
