-- Subflows and pause/resume (issue 6).
-- A flow run called from inside another flow's body is a child run: parent_task_run_id is
-- the wrapper task run in the parent, parent_flow_run_id the parent run (denormalized so the
-- cancel cascade and `list --parent` need no join). A Paused run keeps its resume deadline in
-- state_scheduled_time; the liveness service fails Paused runs past it.

ALTER TABLE flow_runs
  ADD COLUMN parent_task_run_id uuid REFERENCES task_runs (id) ON DELETE SET NULL,
  ADD COLUMN parent_flow_run_id uuid REFERENCES flow_runs (id) ON DELETE SET NULL;

CREATE INDEX flow_runs_parent_idx ON flow_runs (parent_flow_run_id, created DESC, id DESC)
  WHERE parent_flow_run_id IS NOT NULL;

CREATE INDEX flow_runs_paused_deadline_idx ON flow_runs (state_scheduled_time)
  WHERE state_type = 'PAUSED';
