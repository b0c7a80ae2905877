-- sessions: domain_sessionid is unique
SELECT COUNT(*) FROM (
    SELECT domain_sessionid FROM derived.sessions GROUP BY domain_sessionid HAVING COUNT(*) > 1
) AS dupes;
