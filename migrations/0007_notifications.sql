-- Notifications: policies (states x tags -> webhook) and an outbox of deliveries.
-- A statement-level trigger on flow_run_states inserts one delivery per matching
-- (policy, state) in the transaction that writes the state, so a committed transition is
-- never lost and a rolled-back one never sent; the notifier service (its own lease) POSTs
-- them outside any orchestration transaction.

CREATE TABLE notification_policies (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  states      text[] NOT NULL,                 -- state names (Failed, Crashed, ...)
  tags        text[] NOT NULL DEFAULT '{}',    -- the run must carry one of them; {} = any run
  webhook_url text NOT NULL,
  format      text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
  paused      boolean NOT NULL DEFAULT false,
  created     timestamptz NOT NULL DEFAULT now(),
  updated     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_deliveries (
  id              bigserial PRIMARY KEY,
  policy_id       uuid NOT NULL REFERENCES notification_policies (id) ON DELETE CASCADE,
  flow_run_id     uuid NOT NULL,        -- no FK: the record outlives a deleted run
  state_id        bigint NOT NULL,      -- flow_run_states.id
  flow_run_name   text NOT NULL,
  flow_name       text NOT NULL,
  deployment_name text,                 -- "flow/name"
  tags            text[] NOT NULL DEFAULT '{}',
  state_type      text NOT NULL,
  state_name      text NOT NULL,
  state_message   text NOT NULL DEFAULT '',
  state_timestamp timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt    timestamptz NOT NULL DEFAULT now(),
  last_error      text NOT NULL DEFAULT '',
  last_status     integer,              -- HTTP status of the last attempt (NULL: no answer)
  created         timestamptz NOT NULL DEFAULT now(),
  updated         timestamptz NOT NULL DEFAULT now(),
  delivered       timestamptz,
  UNIQUE (policy_id, state_id)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt, id)
  WHERE status = 'pending';
CREATE INDEX notification_deliveries_policy ON notification_deliveries (policy_id, id DESC);

CREATE FUNCTION weft_enqueue_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  -- Cheap when nobody asked for notifications (the usual case for big scheduler inserts).
  IF NOT EXISTS (SELECT 1 FROM notification_policies WHERE NOT paused) THEN
    RETURN NULL;
  END IF;
  WITH ins AS (
    INSERT INTO notification_deliveries (policy_id, flow_run_id, state_id, flow_run_name,
        flow_name, deployment_name, tags, state_type, state_name, state_message,
        state_timestamp)
    SELECT p.id, s.flow_run_id, s.id, r.name, f.name,
           CASE WHEN d.id IS NULL THEN NULL ELSE f.name || '/' || d.name END,
           r.tags, s.type, s.name, s.message, s.timestamp
      FROM new_states s
      JOIN flow_runs r ON r.id = s.flow_run_id
      JOIN flows f ON f.id = r.flow_id
      LEFT JOIN deployments d ON d.id = r.deployment_id
      JOIN notification_policies p
        ON NOT p.paused AND s.name = ANY (p.states)
       AND (cardinality(p.tags) = 0 OR r.tags && p.tags)
    ON CONFLICT (policy_id, state_id) DO NOTHING
    RETURNING 1)
  SELECT count(*) INTO n FROM ins;
  IF n > 0 THEN
    PERFORM pg_notify('weft_notifications', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER flow_run_states_notify AFTER INSERT ON flow_run_states
  REFERENCING NEW TABLE AS new_states
  FOR EACH STATEMENT EXECUTE FUNCTION weft_enqueue_notifications();
