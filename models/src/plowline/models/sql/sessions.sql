-- One row per session (domain_sessionid): its time span, page views and engagement, its
-- first and last page, and where it came from (the first event's referrer and campaign).
DROP TABLE IF EXISTS plw_sessions;
CREATE TEMP TABLE plw_sessions AS
WITH ordered AS (
    SELECT
        ev.*,
        ROW_NUMBER() OVER (
            PARTITION BY ev.domain_sessionid ORDER BY ev.tstamp, ev.event_id{{c}}
        ) AS rn
    FROM plw_events AS ev
),
spans AS (
    SELECT domain_sessionid, MIN(tstamp) AS start_at, MAX(tstamp) AS end_at, COUNT(*) AS n
    FROM plw_events
    GROUP BY domain_sessionid
),
known_users AS (
    SELECT
        domain_sessionid,
        user_id,
        ROW_NUMBER() OVER (
            PARTITION BY domain_sessionid ORDER BY tstamp DESC, event_id{{c}} DESC
        ) AS rn
    FROM plw_events
    WHERE user_id IS NOT NULL
),
views AS (
    SELECT domain_sessionid, COUNT(*) AS n, SUM(engaged_time_s) AS engaged
    FROM plw_page_views
    GROUP BY domain_sessionid
),
last_views AS (
    SELECT
        pv.*,
        ROW_NUMBER() OVER (
            PARTITION BY pv.domain_sessionid
            ORDER BY pv.page_view_in_session_index DESC
        ) AS rn
    FROM plw_page_views AS pv
),
first_events AS (
    SELECT * FROM ordered WHERE rn = 1
)
SELECT
    f.domain_sessionid,
    f.domain_sessionidx,
    f.domain_userid,
    ku.user_id,
    f.network_userid,
    f.app_id,
    sp.start_at AS start_tstamp,
    sp.end_at AS end_tstamp,
    {{seconds_between(sp.start_at, sp.end_at)}} AS duration_s,
    sp.n AS events,
    COALESCE(v.n, 0) AS page_views,
    COALESCE(v.engaged, 0) AS engaged_time_s,
    fp.page_view_id AS first_page_view_id,
    fp.page_url AS first_page_url,
    fp.page_title AS first_page_title,
    fp.page_urlhost AS first_page_urlhost,
    fp.page_urlpath AS first_page_urlpath,
    lp.page_view_id AS last_page_view_id,
    lp.page_url AS last_page_url,
    lp.page_title AS last_page_title,
    lp.page_urlhost AS last_page_urlhost,
    lp.page_urlpath AS last_page_urlpath,
    f.page_referrer,
    f.refr_urlhost,
    f.refr_medium,
    f.refr_source,
    f.refr_term,
    f.mkt_medium,
    f.mkt_source,
    f.mkt_term,
    f.mkt_content,
    f.mkt_campaign,
    f.mkt_clickid,
    f.mkt_network,
    CASE
        WHEN lower(f.mkt_medium) IN ('cpc', 'ppc', 'paidsearch', 'paid_search') THEN 'Paid Search'
        WHEN lower(f.mkt_medium) IN ('display', 'cpm', 'banner') THEN 'Display'
        WHEN lower(f.mkt_medium) IN ('paid_social', 'paidsocial') THEN 'Paid Social'
        WHEN lower(f.mkt_medium) IN ('social', 'social-network', 'social-media', 'sm')
            THEN 'Organic Social'
        WHEN lower(f.mkt_medium) = 'email' THEN 'Email'
        WHEN lower(f.mkt_medium) = 'affiliate' THEN 'Affiliates'
        WHEN f.mkt_medium IS NOT NULL OR f.mkt_source IS NOT NULL OR f.mkt_campaign IS NOT NULL
            THEN 'Other Campaign'
        WHEN f.refr_medium = 'search' THEN 'Organic Search'
        WHEN f.refr_medium = 'social' THEN 'Organic Social'
        WHEN f.refr_medium = 'email' THEN 'Email'
        WHEN f.refr_medium = 'internal' THEN 'Internal'
        WHEN f.refr_medium IS NULL AND f.page_referrer IS NULL THEN 'Direct'
        ELSE 'Referral'
    END AS channel,
    f.useragent,
    f.br_family,
    f.os_family,
    f.dvce_type,
    f.geo_country,
    f.geo_region,
    f.geo_city,
    f.geo_timezone
FROM first_events AS f
JOIN spans AS sp ON sp.domain_sessionid = f.domain_sessionid
LEFT JOIN known_users AS ku ON ku.domain_sessionid = f.domain_sessionid AND ku.rn = 1
LEFT JOIN views AS v ON v.domain_sessionid = f.domain_sessionid
LEFT JOIN plw_page_views AS fp
    ON fp.domain_sessionid = f.domain_sessionid AND fp.page_view_in_session_index = 1
LEFT JOIN last_views AS lp ON lp.domain_sessionid = f.domain_sessionid AND lp.rn = 1;
