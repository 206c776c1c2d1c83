-- Weft schema, version 6: log lines of flow runs and task runs (SDK logger, captured
-- stdout/stderr). Append-only; listed by flow run or task run in id order.
CREATE TABLE logs (
  id            bigserial PRIMARY KEY,
  flow_run_id   uuid NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
  task_run_id   uuid,                      -- no FK: the line outlives nothing, and needs no lock
  task_run_name text NOT NULL DEFAULT '',
  level         smallint NOT NULL,         -- 10 debug, 20 info, 30 warning, 40 error, 50 critical
  message       text NOT NULL,
  timestamp     timestamptz NOT NULL,
  source        text NOT NULL DEFAULT 'sdk',
  created       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX logs_flow_run ON logs (flow_run_id, id);
CREATE INDEX logs_task_run ON logs (task_run_id, id) WHERE task_run_id IS NOT NULL;
