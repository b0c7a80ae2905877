-- sessions: page_views equals the page views that point at the session
SELECT COUNT(*) FROM derived.sessions AS s
WHERE s.page_views <> (
    SELECT COUNT(*) FROM derived.page_views AS pv WHERE pv.domain_sessionid = s.domain_sessionid
);
