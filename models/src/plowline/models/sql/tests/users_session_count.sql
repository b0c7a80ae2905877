-- users: sessions equals the sessions that point at the user
SELECT COUNT(*) FROM derived.users AS u
WHERE u.sessions <> (
    SELECT COUNT(*) FROM derived.sessions AS s WHERE s.domain_userid = u.domain_userid
);
