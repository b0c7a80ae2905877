-- page_views: keys and times are present (domain_userid may be NULL)
SELECT COUNT(*) FROM derived.page_views
WHERE page_view_id IS NULL OR domain_sessionid IS NULL
   OR start_tstamp IS NULL OR end_tstamp IS NULL OR engaged_time_s IS NULL;
