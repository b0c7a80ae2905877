-- One row per page view: the first page_view event with a given web_page id, plus the page
-- pings of the same page view in the same session (engaged time, scroll depth, end time).
-- Scroll depth, as dbt-snowplow-web: the page view itself counts (offset 0: its viewport is
-- seen) with its pings' largest offset, as a percentage of the document rounded half up.
DROP TABLE IF EXISTS plw_page_views;
CREATE TEMP TABLE plw_page_views AS
WITH views AS (
    SELECT
        ev.*,
        ROW_NUMBER() OVER (
            PARTITION BY ev.page_view_id ORDER BY ev.tstamp, ev.event_id{{c}}
        ) AS view_copy
    FROM plw_events AS ev
    WHERE ev.event = 'page_view' AND ev.page_view_id IS NOT NULL
),
pings AS (
    SELECT
        page_view_id,
        domain_sessionid,
        COUNT(*) AS page_pings,
        COUNT(DISTINCT {{epoch_s(tstamp)}} / {{heartbeat}}) AS ping_buckets,
        MAX(tstamp) AS last_ping_tstamp,
        MAX(pp_xoffset_max) AS max_x,
        MAX(pp_yoffset_max) AS max_y
    FROM plw_events
    WHERE event = 'page_ping' AND page_view_id IS NOT NULL
    GROUP BY page_view_id, domain_sessionid
),
measured AS (
    SELECT
        v.*,
        COALESCE(p.page_pings, 0) AS n_pings,
        CASE
            WHEN p.page_pings IS NULL THEN 0
            ELSE {{min_visit_length}} + {{heartbeat}} * (p.ping_buckets - 1)
        END AS engaged,
        CASE
            WHEN p.last_ping_tstamp IS NOT NULL AND p.last_ping_tstamp > v.tstamp
                THEN p.last_ping_tstamp
            ELSE v.tstamp
        END AS end_at,
        CASE
            WHEN v.doc_width IS NULL OR v.doc_width <= 0 THEN NULL
            WHEN COALESCE(p.max_x, 0) + COALESCE(v.br_viewwidth, 0) >= v.doc_width THEN 100
            WHEN COALESCE(p.max_x, 0) + COALESCE(v.br_viewwidth, 0) <= 0 THEN 0
            ELSE (200 * (COALESCE(p.max_x, 0) + COALESCE(v.br_viewwidth, 0)) + v.doc_width) / (2 * v.doc_width)
        END AS x_pct,
        CASE
            WHEN v.doc_height IS NULL OR v.doc_height <= 0 THEN NULL
            WHEN COALESCE(p.max_y, 0) + COALESCE(v.br_viewheight, 0) >= v.doc_height THEN 100
            WHEN COALESCE(p.max_y, 0) + COALESCE(v.br_viewheight, 0) <= 0 THEN 0
            ELSE (200 * (COALESCE(p.max_y, 0) + COALESCE(v.br_viewheight, 0)) + v.doc_height) / (2 * v.doc_height)
        END AS y_pct
    FROM views AS v
    LEFT JOIN pings AS p
        ON p.page_view_id = v.page_view_id AND p.domain_sessionid = v.domain_sessionid
    WHERE v.view_copy = 1
)
SELECT
    page_view_id,
    event_id,
    app_id,
    platform,
    domain_userid,
    user_id,
    network_userid,
    domain_sessionid,
    domain_sessionidx,
    ROW_NUMBER() OVER (
        PARTITION BY domain_sessionid ORDER BY tstamp, page_view_id{{c}}
    ) AS page_view_in_session_index,
    tstamp AS start_tstamp,
    end_at AS end_tstamp,
    n_pings AS page_pings,
    engaged AS engaged_time_s,
    {{seconds_between(tstamp, end_at)}} AS absolute_time_s,
    x_pct AS horizontal_scroll_pct,
    y_pct AS vertical_scroll_pct,
    page_url,
    page_title,
    page_urlscheme,
    page_urlhost,
    page_urlpath,
    page_urlquery,
    page_urlfragment,
    page_referrer,
    refr_urlhost,
    refr_urlpath,
    refr_medium,
    refr_source,
    refr_term,
    mkt_medium,
    mkt_source,
    mkt_term,
    mkt_content,
    mkt_campaign,
    mkt_clickid,
    mkt_network,
    useragent,
    br_family,
    br_lang,
    br_viewwidth,
    br_viewheight,
    os_family,
    os_timezone,
    dvce_type,
    dvce_screenwidth,
    dvce_screenheight,
    doc_width,
    doc_height,
    user_ipaddress,
    geo_country,
    geo_region,
    geo_city,
    geo_zipcode,
    geo_latitude,
    geo_longitude,
    geo_region_name,
    geo_timezone
FROM measured;
-- Statistics: without them PostgreSQL nests loops over this table in the sessions step.
ANALYZE plw_page_views;
