-- sessions -> users: every session's user exists
SELECT COUNT(*) FROM derived.sessions AS s
WHERE NOT EXISTS (SELECT 1 FROM derived.users AS u WHERE u.domain_userid = s.domain_userid);
