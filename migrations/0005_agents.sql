-- Weft schema, version 5: agents, run ownership and heartbeats, deployment timeouts, and
-- the NOTIFY that wakes waiting agent polls (in this replica and in every other one).

-- An agent names itself with a UUID it chooses at start; every poll and heartbeat upserts it.
CREATE TABLE agents (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  hostname    text NOT NULL DEFAULT '',
  work_queues text[] NOT NULL DEFAULT '{}',
  run_limit   integer NOT NULL DEFAULT 0,          -- concurrent runs it allows (0 = unbounded)
  running     integer NOT NULL DEFAULT 0,          -- runs it reported at its last heartbeat
  version     text NOT NULL DEFAULT '',
  started     timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),  -- last poll or heartbeat
  last_polled timestamptz
);
CREATE INDEX agents_last_seen ON agents (last_seen DESC);

-- The agent that claimed the run (no FK: agents are forgotten, runs keep the id) and the
-- last sign of life from that agent or from the flow program.
ALTER TABLE flow_runs
  ADD COLUMN agent_id       uuid,
  ADD COLUMN last_heartbeat timestamptz;

ALTER TABLE deployments
  ADD COLUMN timeout_seconds double precision NOT NULL DEFAULT 0;

-- Claims: unowned SCHEDULED runs of a queue by due time (state_scheduled_time is always
-- set on SCHEDULED states; AwaitingRetry's is its retry time).
CREATE INDEX flow_runs_queue_due ON flow_runs (work_queue, state_scheduled_time, id)
  WHERE state_type = 'SCHEDULED' AND agent_id IS NULL;
-- The zombie reaper: owned or heartbeating runs that are not finished, by heartbeat.
CREATE INDEX flow_runs_heartbeat ON flow_runs (last_heartbeat)
  WHERE last_heartbeat IS NOT NULL
    AND state_type IN ('SCHEDULED', 'PENDING', 'RUNNING', 'CANCELLING', 'PAUSED');
-- The late-runs service: runs still named Scheduled, by due time.
CREATE INDEX flow_runs_late ON flow_runs (state_scheduled_time)
  WHERE state_type = 'SCHEDULED' AND state_name = 'Scheduled';
-- Cancel requests an agent must act on.
CREATE INDEX flow_runs_agent_cancelling ON flow_runs (agent_id)
  WHERE state_type = 'CANCELLING';

-- Wake-ups for waiting polls: NOTIFY weft_dispatch 'q:<queue>' when a queue may have a run
-- to hand out: an unowned run became SCHEDULED (created, rescheduled, retried) or its due
-- time moved, or a run of a queue with a concurrency limit left PENDING/RUNNING (a slot
-- freed; unlimited queues are not woken by finished runs, which would only cost claims).
-- Identical payloads in one transaction are delivered once, so a scheduler pass that
-- inserts thousands of runs sends one notification per queue.
CREATE FUNCTION weft_notify_runs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('weft_dispatch', 'q:' || q.work_queue)
    FROM (SELECT DISTINCT n.work_queue FROM new_rows n
          WHERE n.state_type = 'SCHEDULED' AND n.agent_id IS NULL AND n.work_queue <> '') q;
  RETURN NULL;
END $$;

CREATE FUNCTION weft_notify_runs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('weft_dispatch', 'q:' || q.work_queue)
    FROM (SELECT DISTINCT n.work_queue FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE n.work_queue <> ''
            AND ((n.state_type = 'SCHEDULED' AND n.agent_id IS NULL
                  AND (o.state_type IS DISTINCT FROM 'SCHEDULED'
                       OR o.agent_id IS NOT NULL
                       OR o.state_scheduled_time IS DISTINCT FROM n.state_scheduled_time))
              OR (o.state_type IN ('PENDING', 'RUNNING')
                  AND n.state_type NOT IN ('PENDING', 'RUNNING')
                  AND EXISTS (SELECT 1 FROM work_queues w WHERE w.name = n.work_queue
                              AND w.concurrency_limit IS NOT NULL)))) q;
  RETURN NULL;
END $$;

CREATE TRIGGER flow_runs_dispatch_insert AFTER INSERT ON flow_runs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_notify_runs_inserted();
CREATE TRIGGER flow_runs_dispatch_update AFTER UPDATE ON flow_runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION weft_notify_runs_updated();

-- A queue resumed, its limit raised or cleared, or its filter changed.
CREATE FUNCTION weft_notify_queue_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT NEW.paused AND (OLD.paused
      OR NEW.concurrency_limit IS DISTINCT FROM OLD.concurrency_limit
      OR NEW.tags IS DISTINCT FROM OLD.tags
      OR NEW.deployments IS DISTINCT FROM OLD.deployments
      OR NEW.runner_types IS DISTINCT FROM OLD.runner_types) THEN
    PERFORM pg_notify('weft_dispatch', 'q:' || NEW.name);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER work_queues_dispatch AFTER UPDATE ON work_queues
  FOR EACH ROW EXECUTE FUNCTION weft_notify_queue_updated();
