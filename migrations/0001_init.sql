-- Weft schema, version 1: flows, flow runs, task runs and their state histories.
-- All timestamps are timestamptz (UTC). Runs hold their current state denormalized;
-- the *_states tables are append-only histories ordered by their bigserial id.

CREATE TABLE flows (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name              text NOT NULL UNIQUE,
  tags              text[] NOT NULL DEFAULT '{}',
  parameters_schema jsonb,
  created           timestamptz NOT NULL DEFAULT now(),
  updated           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flow_runs (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  flow_id               uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  name                  text NOT NULL,
  state_id              bigint,
  state_type            text,
  state_name            text,
  state_timestamp       timestamptz,
  state_message         text NOT NULL DEFAULT '',
  state_details         jsonb,
  state_scheduled_time  timestamptz,
  state_idempotency_key text NOT NULL DEFAULT '',
  parameters            jsonb NOT NULL DEFAULT '{}',
  tags                  text[] NOT NULL DEFAULT '{}',
  run_count             integer NOT NULL DEFAULT 0,
  retry_policy          jsonb,
  idempotency_key       text,
  expected_start_time   timestamptz,
  start_time            timestamptz,
  end_time              timestamptz,
  total_run_time        double precision NOT NULL DEFAULT 0,
  created               timestamptz NOT NULL DEFAULT now(),
  updated               timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT flow_runs_idempotency_key UNIQUE (flow_id, idempotency_key)
);
-- Listings: newest first, keyset paging on (created, id), optionally per flow or state.
CREATE INDEX flow_runs_created ON flow_runs (created DESC, id DESC);
CREATE INDEX flow_runs_flow_created ON flow_runs (flow_id, created DESC, id DESC);
CREATE INDEX flow_runs_state_type ON flow_runs (state_type, created DESC);
CREATE INDEX flow_runs_scheduled ON flow_runs (state_scheduled_time) WHERE state_type = 'SCHEDULED';

CREATE TABLE flow_run_states (
  id              bigserial PRIMARY KEY,
  flow_run_id     uuid NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
  type            text NOT NULL,
  name            text NOT NULL,
  timestamp       timestamptz NOT NULL,
  message         text NOT NULL DEFAULT '',
  details         jsonb,
  scheduled_time  timestamptz,
  idempotency_key text NOT NULL DEFAULT '',
  created         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flow_run_states_run ON flow_run_states (flow_run_id, id);

CREATE TABLE task_runs (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  flow_run_id           uuid NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
  task_key              text NOT NULL,
  dynamic_key           text NOT NULL,
  name                  text NOT NULL,
  state_id              bigint,
  state_type            text,
  state_name            text,
  state_timestamp       timestamptz,
  state_message         text NOT NULL DEFAULT '',
  state_details         jsonb,
  state_scheduled_time  timestamptz,
  state_idempotency_key text NOT NULL DEFAULT '',
  run_count             integer NOT NULL DEFAULT 0,
  retry_policy          jsonb,
  tags                  text[] NOT NULL DEFAULT '{}',
  cache_key             text NOT NULL DEFAULT '',
  expected_start_time   timestamptz,
  start_time            timestamptz,
  end_time              timestamptz,
  total_run_time        double precision NOT NULL DEFAULT 0,
  created               timestamptz NOT NULL DEFAULT now(),
  updated               timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT task_runs_key UNIQUE (flow_run_id, task_key, dynamic_key)
);
-- Listing a flow run's task runs in creation order (keyset on created, id).
CREATE INDEX task_runs_flow_run_created ON task_runs (flow_run_id, created, id);
CREATE INDEX task_runs_state_type ON task_runs (state_type);

CREATE TABLE task_run_states (
  id              bigserial PRIMARY KEY,
  task_run_id     uuid NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
  type            text NOT NULL,
  name            text NOT NULL,
  timestamp       timestamptz NOT NULL,
  message         text NOT NULL DEFAULT '',
  details         jsonb,
  scheduled_time  timestamptz,
  idempotency_key text NOT NULL DEFAULT '',
  created         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_run_states_run ON task_run_states (task_run_id, id);
