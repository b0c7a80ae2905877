-- sessions: keys, times and channel are present
SELECT COUNT(*) FROM derived.sessions
WHERE domain_sessionid IS NULL OR domain_userid IS NULL OR start_tstamp IS NULL
   OR end_tstamp IS NULL OR channel IS NULL;
