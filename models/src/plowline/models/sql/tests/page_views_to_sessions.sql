-- page_views -> sessions: every page view's session exists
SELECT COUNT(*) FROM derived.page_views AS pv
WHERE NOT EXISTS (
    SELECT 1 FROM derived.sessions AS s WHERE s.domain_sessionid = pv.domain_sessionid
);
