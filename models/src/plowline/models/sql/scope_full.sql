-- Full refresh: every session is in scope.
DROP TABLE IF EXISTS plw_scope;
CREATE TEMP TABLE plw_scope AS
SELECT DISTINCT domain_sessionid
FROM atomic.events
WHERE domain_sessionid IS NOT NULL;
