-- Weft schema, version 4: work queues. A run belongs to the queue named by its
-- flow_runs.work_queue (from its deployment); a queue's filters narrow further.
CREATE TABLE work_queues (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name              text NOT NULL UNIQUE,
  description       text NOT NULL DEFAULT '',
  tags              text[] NOT NULL DEFAULT '{}',   -- a run must carry all of them
  deployments       text[] NOT NULL DEFAULT '{}',   -- "flow/name"; empty = any
  runner_types      text[] NOT NULL DEFAULT '{}',   -- empty = any
  concurrency_limit integer CHECK (concurrency_limit >= 0),  -- NULL = unlimited
  priority          integer NOT NULL DEFAULT 0,
  paused            boolean NOT NULL DEFAULT false,
  created           timestamptz NOT NULL DEFAULT now(),
  updated           timestamptz NOT NULL DEFAULT now()
);
INSERT INTO work_queues (name, description) VALUES ('default', 'Runs of deployments that name no queue');

-- Due runs of a queue (preview; agents later).
CREATE INDEX flow_runs_queue_scheduled ON flow_runs (work_queue, expected_start_time)
  WHERE state_type = 'SCHEDULED';
-- Pending + Running runs of a queue (concurrency limit).
CREATE INDEX flow_runs_queue_active ON flow_runs (work_queue)
  WHERE state_type IN ('PENDING', 'RUNNING');
