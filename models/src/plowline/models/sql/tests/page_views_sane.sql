-- page_views: time runs forwards, engagement and scroll depth are in range
SELECT COUNT(*) FROM derived.page_views
WHERE end_tstamp < start_tstamp OR engaged_time_s < 0 OR absolute_time_s < 0
   OR vertical_scroll_pct < 0 OR vertical_scroll_pct > 100
   OR horizontal_scroll_pct < 0 OR horizontal_scroll_pct > 100;
