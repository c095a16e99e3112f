-- Campaign timing (issue 17): a deployment silent this long while downloading or
-- installing fails (0: never); a draft that starts itself at start_at (0: by
-- hand); a dynamic campaign that devices join at their check-in while it runs.
ALTER TABLE campaigns ADD COLUMN deployment_timeout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN start_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN dynamic INTEGER NOT NULL DEFAULT 0;
