-- What happened to each deployment over time (issue 17): a row for its creation
-- and for every change of state, error or message, written by triggers so that
-- every writer (reports, check-ins, the scheduler) keeps it without trying.
-- `attempt` is the deployment's offer count then: a retried device shows each try.
CREATE TABLE deployment_history (
  id INTEGER PRIMARY KEY,
  deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  state INTEGER NOT NULL,
  progress INTEGER NOT NULL,
  error INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX deployment_history_by_deployment ON deployment_history (deployment_id, id);

CREATE TRIGGER deployment_history_on_insert AFTER INSERT ON deployments
BEGIN
  INSERT INTO deployment_history (deployment_id, at, state, progress, error, attempt, message)
  VALUES (NEW.id, NEW.created_at, NEW.state, NEW.progress, NEW.error, NEW.attempts, NEW.message);
END;

CREATE TRIGGER deployment_history_on_update AFTER UPDATE ON deployments
WHEN OLD.state IS NOT NEW.state OR OLD.error IS NOT NEW.error OR OLD.message IS NOT NEW.message
  OR OLD.attempts IS NOT NEW.attempts
BEGIN
  INSERT INTO deployment_history (deployment_id, at, state, progress, error, attempt, message)
  VALUES (NEW.id, NEW.updated_at, NEW.state, NEW.progress, NEW.error, NEW.attempts, NEW.message);
END;

-- Log lines a device attaches to its reports, at most a bounded number per
-- deployment (Store::append_deployment_log); `log_dropped` counts the lines refused.
CREATE TABLE deployment_logs (
  id INTEGER PRIMARY KEY,
  deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX deployment_logs_by_deployment ON deployment_logs (deployment_id, id);
ALTER TABLE deployments ADD COLUMN log_dropped INTEGER NOT NULL DEFAULT 0;

-- Operators' per-device actions (issue 17): "update now" offers outside the
-- campaign's window; "defer until" holds every offer until the time given.
ALTER TABLE deployments ADD COLUMN ignore_window INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
