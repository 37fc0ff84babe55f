-- Portal health: each portal's judgement in its latest run, with the reason, and for how many
-- runs in a row it has been unhealthy.  The judgement itself is computed by the nightly flow
-- (flows/health.py) and stored per run in portal_runs; this view picks the latest row.
CREATE OR REPLACE VIEW portal_health AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY portal_id ORDER BY started_at DESC, run_id DESC) AS k
    FROM portal_runs
),
streaks AS (
    SELECT portal_id,
           coalesce(min(k) FILTER (WHERE health <> 'unhealthy'), count(*) + 1) - 1 AS unhealthy_runs
    FROM ranked GROUP BY portal_id
)
SELECT r.portal_id, r.health, r.reason, r.run_id, r.started_at AS checked_at, r.crawl_status,
       r.listed, r.new, r.unchanged, r.removed, r.blocked, r.failed, r.extracted, r.flagged,
       r.error, s.unhealthy_runs
FROM ranked r JOIN streaks s USING (portal_id)
WHERE r.k = 1;

-- Registry rows as `nianbao registry check` last saw them: one row per portal_id, its latest
-- check (verdict ok | empty | blocked | moved | unreachable | robots, reports listed per year as
-- JSON, the detected CMS family).  Every check stays in `registry_checks`.
CREATE OR REPLACE VIEW registry_checks AS SELECT * FROM {{source:registry_checks}};

CREATE OR REPLACE VIEW registry_status AS
SELECT * FROM registry_checks
QUALIFY row_number() OVER (PARTITION BY portal_id ORDER BY checked_at DESC, check_id DESC) = 1;
