-- page_views: page_view_id is unique
SELECT COUNT(*) FROM (
    SELECT page_view_id FROM derived.page_views GROUP BY page_view_id HAVING COUNT(*) > 1
) AS dupes;
