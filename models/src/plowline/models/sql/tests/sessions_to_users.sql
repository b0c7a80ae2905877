-- sessions -> users: the user of every session with a domain_userid exists
SELECT COUNT(*) FROM derived.sessions AS s
WHERE s.domain_userid IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM derived.users AS u WHERE u.domain_userid = s.domain_userid);
