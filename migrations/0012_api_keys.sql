-- API keys (issue 11). A key is "weft_<id>_<secret>": `id` (12 hex) finds the row, and only
-- the SHA-256 of the secret is kept, compared in constant time by the server. Scopes:
-- viewer, operator, agent (limited to `work_queues` when not empty), admin.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  scope text NOT NULL CHECK (scope IN ('viewer', 'operator', 'agent', 'admin')),
  work_queues text[] NOT NULL DEFAULT '{}',
  secret_sha256 text NOT NULL,
  created timestamptz NOT NULL DEFAULT now(),
  expires timestamptz,
  last_used timestamptz
);

-- Secrets the server replicas share, made once by the first server that needs them: the
-- HMAC key that signs run tokens ("run_token_key").
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);
