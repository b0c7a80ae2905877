-- users: domain_userid is unique
SELECT COUNT(*) FROM (
    SELECT domain_userid FROM derived.users GROUP BY domain_userid HAVING COUNT(*) > 1
) AS dupes;
