-- A device is in at most one unfinished deployment: enforced by the store, not by
-- care (two draft campaigns started together once gave a device three). Older
-- duplicates are canceled first, the newest kept. Unfinished states: scheduled,
-- pending, downloading, installing, rebooting, deferred (server/model/campaign.h).
UPDATE deployments SET state = 9, finished_at = updated_at
  WHERE state IN (1, 2, 3, 4, 5, 10) AND id NOT IN (
    SELECT MAX(id) FROM deployments WHERE state IN (1, 2, 3, 4, 5, 10) GROUP BY device_id);
CREATE UNIQUE INDEX deployments_one_open ON deployments (device_id)
  WHERE state IN (1, 2, 3, 4, 5, 10);

-- A campaign may offer a lower version than a device runs only when it says so
-- (and the release's manifest allows it); never below the security counter.
ALTER TABLE campaigns ADD COLUMN allow_downgrade INTEGER NOT NULL DEFAULT 0;
