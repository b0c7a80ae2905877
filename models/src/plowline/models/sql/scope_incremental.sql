-- Incremental: the sessions of every event at or after the lower bound (high-water mark minus
-- the lookback window). Those sessions are rebuilt whole, so late events are folded in.
DROP TABLE IF EXISTS plw_scope;
CREATE TEMP TABLE plw_scope AS
SELECT DISTINCT domain_sessionid
FROM atomic.events
WHERE collector_tstamp >= (SELECT lower_bound FROM plw_run)
  AND domain_sessionid IS NOT NULL;
