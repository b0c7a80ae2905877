-- users: keys and first/last seen are present
SELECT COUNT(*) FROM derived.users
WHERE domain_userid IS NULL OR start_tstamp IS NULL OR end_tstamp IS NULL
   OR first_session_id IS NULL OR last_session_id IS NULL;
