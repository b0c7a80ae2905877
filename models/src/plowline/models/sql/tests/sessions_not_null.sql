-- sessions: keys, times and channel are present (domain_userid may be NULL)
SELECT COUNT(*) FROM derived.sessions
WHERE domain_sessionid IS NULL OR start_tstamp IS NULL
   OR end_tstamp IS NULL OR channel IS NULL;
