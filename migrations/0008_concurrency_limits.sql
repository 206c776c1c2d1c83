-- Tag concurrency limits (issue 6, docs/concurrency-limits.md).
-- A task run carrying a limited tag holds one slot of that tag while it is RUNNING. The
-- server secures the slot when it accepts RUNNING (rule SecureConcurrencySlots, with the
-- limit rows locked FOR UPDATE so two starts never both take the last slot). Slots are
-- released here, by triggers, so that no path can leak one: when the task run's row leaves
-- RUNNING (any path: SetTaskRunState, batched reports, a forced state) and when its flow run
-- reaches a final state (reaper, cancel, the flow's own final state). Every release sends
-- NOTIFY weft_concurrency '<tag>' so waiting WaitForConcurrencySlot calls on every replica
-- wake at once.

CREATE TABLE concurrency_limits (
  tag        text PRIMARY KEY,
  slot_limit integer NOT NULL CHECK (slot_limit >= 0),
  created    timestamptz NOT NULL DEFAULT now(),
  updated    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE concurrency_slots (
  tag         text NOT NULL REFERENCES concurrency_limits (tag) ON DELETE CASCADE,
  task_run_id uuid NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
  flow_run_id uuid NOT NULL,
  acquired    timestamptz NOT NULL,
  PRIMARY KEY (tag, task_run_id)
);
CREATE INDEX concurrency_slots_task_run_idx ON concurrency_slots (task_run_id);
CREATE INDEX concurrency_slots_flow_run_idx ON concurrency_slots (flow_run_id);

-- A task run whose row is no longer RUNNING holds no slot.
CREATE FUNCTION weft_release_task_run_slots() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  freed text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM concurrency_slots) THEN
    RETURN NULL;
  END IF;
  FOR freed IN
    WITH d AS (
      DELETE FROM concurrency_slots s USING new_rows n
       WHERE s.task_run_id = n.id AND n.state_type IS DISTINCT FROM 'RUNNING'
      RETURNING s.tag)
    SELECT DISTINCT tag FROM d
  LOOP
    PERFORM pg_notify('weft_concurrency', freed);
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER task_runs_release_slots AFTER UPDATE ON task_runs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_release_task_run_slots();

-- A flow run that reaches a final state, or whose attempt ends in a retry (RUNNING ->
-- AwaitingRetry): its task runs still RUNNING end too (Cancelled when the flow run was
-- cancelled, Crashed otherwise, with a message naming the flow run's state), which releases
-- their slots through the trigger above; any slot of the flow run left over is released as
-- well.
CREATE FUNCTION weft_finish_flow_run_task_runs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  freed text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                  WHERE (n.state_type IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')
                         AND o.state_type IS DISTINCT FROM n.state_type)
                     OR (o.state_type = 'RUNNING' AND n.state_type = 'SCHEDULED')) THEN
    RETURN NULL;
  END IF;
  WITH fin AS (
    SELECT n.id, n.state_type, n.state_name, n.state_timestamp
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (n.state_type IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')
            AND o.state_type IS DISTINCT FROM n.state_type)
        OR (o.state_type = 'RUNNING' AND n.state_type = 'SCHEDULED')),
  running AS (
    SELECT t.id, f.state_type AS flow_type, f.state_name AS flow_state,
           coalesce(f.state_timestamp, now()) AS at
      FROM task_runs t JOIN fin f ON t.flow_run_id = f.id
     WHERE t.state_type = 'RUNNING'
     ORDER BY t.id
       FOR NO KEY UPDATE OF t),
  ins AS (
    INSERT INTO task_run_states (task_run_id, type, name, timestamp, message)
    SELECT r.id,
           CASE WHEN r.flow_type = 'CANCELLED' THEN 'CANCELLED' ELSE 'CRASHED' END,
           CASE WHEN r.flow_type = 'CANCELLED' THEN 'Cancelled' ELSE 'Crashed' END,
           r.at,
           CASE WHEN r.flow_type = 'SCHEDULED'
                THEN 'its flow run''s attempt ended (' || coalesce(r.flow_state, r.flow_type) ||
                     ') while it was running'
                ELSE 'its flow run ended ' || coalesce(r.flow_state, r.flow_type) ||
                     ' while it was running' END
      FROM running r
    RETURNING id, task_run_id, type, name, timestamp, message)
  UPDATE task_runs t
     SET state_id = ins.id, state_type = ins.type, state_name = ins.name,
         state_timestamp = ins.timestamp, state_message = ins.message, state_details = NULL,
         state_scheduled_time = NULL, state_idempotency_key = '', end_time = ins.timestamp,
         total_run_time = t.total_run_time
                          + greatest(0, extract(epoch FROM ins.timestamp - t.state_timestamp)),
         updated = now()
    FROM ins
   WHERE t.id = ins.task_run_id;
  FOR freed IN
    WITH d AS (
      DELETE FROM concurrency_slots s USING new_rows n JOIN old_rows o ON o.id = n.id
       WHERE s.flow_run_id = n.id
         AND (n.state_type IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')
              OR (o.state_type = 'RUNNING' AND n.state_type = 'SCHEDULED'))
      RETURNING s.tag)
    SELECT DISTINCT tag FROM d
  LOOP
    PERFORM pg_notify('weft_concurrency', freed);
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER flow_runs_finish_task_runs AFTER UPDATE ON flow_runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_finish_flow_run_task_runs();

-- A limit created, raised or removed may let waiters run.
CREATE FUNCTION weft_notify_limit_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('weft_concurrency', OLD.tag);
  ELSIF TG_OP = 'INSERT' OR NEW.slot_limit > OLD.slot_limit THEN
    PERFORM pg_notify('weft_concurrency', NEW.tag);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER concurrency_limits_notify AFTER INSERT OR UPDATE OR DELETE ON concurrency_limits
  FOR EACH ROW EXECUTE FUNCTION weft_notify_limit_changed();
