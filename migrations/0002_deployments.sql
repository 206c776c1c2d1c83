-- Weft schema, version 2: storages, bundles kept in the server, deployments, the
-- scheduler's columns on flow runs, and service leases.

-- A named place where code bundles live. No secrets: credentials come from the environment.
CREATE TABLE storages (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL UNIQUE,
  kind       text NOT NULL CHECK (kind IN ('local', 'server', 's3')),
  config     jsonb NOT NULL DEFAULT '{}',
  is_default boolean NOT NULL DEFAULT false,
  created    timestamptz NOT NULL DEFAULT now()
);
-- Exactly one default at a time (at most one row may hold it).
CREATE UNIQUE INDEX storages_one_default ON storages (is_default) WHERE is_default;
-- Zero-setup storage: bundles inside this database.
INSERT INTO storages (name, kind, is_default) VALUES ('server', 'server', true);

-- Bundles of "server" storage: content-addressed (sha256), stored as 1 MiB chunks.
CREATE TABLE bundles (
  digest  text PRIMARY KEY,
  size    bigint NOT NULL,
  chunks  integer NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bundle_chunks (
  digest text NOT NULL REFERENCES bundles (digest) ON DELETE CASCADE,
  seq    integer NOT NULL,
  data   bytea NOT NULL,
  PRIMARY KEY (digest, seq)
);
ALTER TABLE bundle_chunks ALTER COLUMN data SET STORAGE EXTERNAL;  -- tar.gz: no recompression

CREATE TABLE deployments (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  flow_id              uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  name                 text NOT NULL,
  description          text NOT NULL DEFAULT '',
  version              text NOT NULL DEFAULT '',
  entrypoint           text[] NOT NULL DEFAULT '{}',
  storage_id           uuid NOT NULL REFERENCES storages (id) ON DELETE RESTRICT,
  bundle_digest        text NOT NULL DEFAULT '',
  bundle_size          bigint NOT NULL DEFAULT 0,
  schedule             jsonb,           -- NULL = runs only on demand
  schedule_description text NOT NULL DEFAULT '',
  parameters           jsonb NOT NULL DEFAULT '{}',
  tags                 text[] NOT NULL DEFAULT '{}',
  work_queue           text NOT NULL DEFAULT 'default',
  runner               jsonb NOT NULL DEFAULT '{}',
  catchup_policy       text NOT NULL DEFAULT 'latest' CHECK (catchup_policy IN ('all', 'latest', 'none')),
  max_lateness_seconds double precision NOT NULL DEFAULT 0,
  paused               boolean NOT NULL DEFAULT false,
  last_scheduled_time  timestamptz,     -- latest schedule time the scheduler has dealt with
  revision             bigint NOT NULL DEFAULT 1,  -- bumped by every change of the spec/paused
  created              timestamptz NOT NULL DEFAULT now(),
  updated              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT deployments_flow_name UNIQUE (flow_id, name)
);
CREATE INDEX deployments_storage ON deployments (storage_id);
CREATE INDEX deployments_active ON deployments (id) WHERE NOT paused AND schedule IS NOT NULL;

ALTER TABLE flow_runs
  ADD COLUMN deployment_id  uuid REFERENCES deployments (id) ON DELETE SET NULL,
  ADD COLUMN auto_scheduled boolean NOT NULL DEFAULT false,
  ADD COLUMN work_queue     text NOT NULL DEFAULT '';
-- Upcoming runs of a deployment, and the scheduler's look at them.
CREATE INDEX flow_runs_deployment_scheduled ON flow_runs (deployment_id, expected_start_time)
  WHERE state_type = 'SCHEDULED';
-- Listing a deployment's runs.
CREATE INDEX flow_runs_deployment_created ON flow_runs (deployment_id, created DESC, id DESC)
  WHERE deployment_id IS NOT NULL;
-- Missed auto runs (catch-up).
CREATE INDEX flow_runs_auto_scheduled ON flow_runs (expected_start_time)
  WHERE state_type = 'SCHEDULED' AND auto_scheduled;

-- Leader leases of background services: one holder per name, renewed by heartbeat.
CREATE TABLE service_leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL,
  acquired   timestamptz NOT NULL DEFAULT now()
);
