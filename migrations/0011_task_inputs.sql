-- Task inputs (issue 6): which upstream task runs fed a task run, as arguments or through
-- wait_for, so the dashboard can draw the graph. NULL = none recorded.
--   {"args":[{"task_run_id":"...","arg":0}],"wait_for":[{"task_run_id":"..."}]}
ALTER TABLE task_runs ADD COLUMN task_inputs jsonb;
