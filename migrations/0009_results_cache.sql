-- Task run results and the cache (issue 6): a COMPLETED task run may store its result
-- (JSON text, one row per task run); a later run with the same cache key proposing RUNNING
-- is answered Cached with that result while it has not expired.

-- Asked for at creation: how long a result stored under the run's cache key serves later
-- runs (0 = never expires). The expiry itself is fixed when the result is stored.
ALTER TABLE task_runs ADD COLUMN cache_expiration_seconds double precision NOT NULL DEFAULT 0;

CREATE TABLE task_run_results (
  task_run_id        uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
  cache_key          text NOT NULL DEFAULT '',
  -- The result as the run proposed it; NULL for a Cached run, whose result is its source's.
  result_json        text,
  size_bytes         bigint NOT NULL DEFAULT 0,
  -- A Cached run: the run whose result it reused. Cached runs never feed the cache.
  source_task_run_id uuid REFERENCES task_runs (id) ON DELETE CASCADE,
  expires            timestamptz,  -- NULL = never
  created            timestamptz NOT NULL DEFAULT now()
);
-- The cache lookup: the newest stored (non-Cached) result for a key.
CREATE INDEX task_run_results_cache ON task_run_results (cache_key, created DESC)
  WHERE cache_key <> '' AND source_task_run_id IS NULL;
CREATE INDEX task_run_results_source ON task_run_results (source_task_run_id)
  WHERE source_task_run_id IS NOT NULL;
