-- Every event of the sessions in scope, de-duplicated by event_id, with its page view id
-- (the web_page entity's id, shared by the page view and its page pings).
CREATE INDEX IF NOT EXISTS plw_scope_session ON plw_scope (domain_sessionid);
ANALYZE plw_scope;
DROP TABLE IF EXISTS plw_events;
CREATE TEMP TABLE plw_events AS
WITH joined AS (
    SELECT
        CAST(e.event_id AS TEXT) AS event_id,
        e.event,
        e.app_id,
        e.platform,
        e.collector_tstamp,
        COALESCE(e.derived_tstamp, e.collector_tstamp) AS tstamp,
        e.domain_userid,
        e.domain_sessionid,
        e.domain_sessionidx,
        e.user_id,
        e.network_userid,
        e.user_ipaddress,
        CAST(wp.page_view_id AS TEXT) AS page_view_id,
        e.page_url,
        e.page_title,
        e.page_urlscheme,
        e.page_urlhost,
        e.page_urlpath,
        e.page_urlquery,
        e.page_urlfragment,
        e.page_referrer,
        e.refr_urlhost,
        e.refr_urlpath,
        e.refr_medium,
        e.refr_source,
        e.refr_term,
        e.mkt_medium,
        e.mkt_source,
        e.mkt_term,
        e.mkt_content,
        e.mkt_campaign,
        e.mkt_clickid,
        e.mkt_network,
        e.pp_xoffset_max,
        e.pp_yoffset_max,
        e.useragent,
        e.br_family,
        e.br_lang,
        e.br_viewwidth,
        e.br_viewheight,
        e.os_family,
        e.os_timezone,
        e.dvce_type,
        e.dvce_screenwidth,
        e.dvce_screenheight,
        e.doc_width,
        e.doc_height,
        e.geo_country,
        e.geo_region,
        e.geo_city,
        e.geo_zipcode,
        e.geo_latitude,
        e.geo_longitude,
        e.geo_region_name,
        e.geo_timezone,
        -- Copies of one event_id: the earliest, then by every column this model reads (NULL
        -- last, text in byte order), so the copy kept never depends on the query plan and is
        -- the same on both engines, in an incremental run and a full refresh.
        ROW_NUMBER() OVER (
            PARTITION BY e.event_id
            ORDER BY e.collector_tstamp, COALESCE(CAST(wp.page_view_id AS TEXT), ''){{c}},
            {{keys(
                e.derived_tstamp, e.domain_sessionidx, e.pp_xoffset_max,
                e.pp_yoffset_max, e.br_viewwidth, e.br_viewheight,
                e.dvce_screenwidth, e.dvce_screenheight, e.doc_width, e.doc_height,
                e.geo_latitude, e.geo_longitude
            )}},
            {{text_keys(
                e.event, e.app_id, e.platform, e.domain_userid, e.domain_sessionid,
                e.user_id, e.network_userid, e.user_ipaddress, e.page_url,
                e.page_title, e.page_urlscheme, e.page_urlhost, e.page_urlpath,
                e.page_urlquery, e.page_urlfragment, e.page_referrer,
                e.refr_urlhost, e.refr_urlpath, e.refr_medium, e.refr_source,
                e.refr_term, e.mkt_medium, e.mkt_source, e.mkt_term, e.mkt_content,
                e.mkt_campaign, e.mkt_clickid, e.mkt_network, e.useragent,
                e.br_family, e.br_lang, e.os_family, e.os_timezone, e.dvce_type,
                e.geo_country, e.geo_region, e.geo_city, e.geo_zipcode,
                e.geo_region_name, e.geo_timezone
            )}}
        ) AS event_copy
    FROM atomic.events AS e
    JOIN plw_scope AS s ON s.domain_sessionid = e.domain_sessionid
    LEFT JOIN {{web_page}} AS wp
        ON wp.root_id = e.event_id AND wp.root_tstamp = e.collector_tstamp
    WHERE {{app_filter}} AND {{bot_filter}}
        AND (
            e.dvce_sent_tstamp IS NULL OR e.dvce_created_tstamp IS NULL
            OR e.dvce_sent_tstamp <= {{late_cutoff(e.dvce_created_tstamp)}}
        )
)
SELECT * FROM joined WHERE event_copy = 1;
-- One domain_userid per session: its first non-NULL one (by time, then event_id) on every
-- event of the session, NULL when no event has one (its page views and session are kept, as
-- in dbt-snowplow-web; users need a domain_userid).
DROP TABLE IF EXISTS plw_session_users;
CREATE TEMP TABLE plw_session_users AS
WITH ranked AS (
    SELECT
        domain_sessionid,
        domain_userid,
        ROW_NUMBER() OVER (
            PARTITION BY domain_sessionid ORDER BY tstamp, event_id{{c}}
        ) AS rn
    FROM plw_events
    WHERE domain_userid IS NOT NULL
)
SELECT domain_sessionid, domain_userid FROM ranked WHERE rn = 1;
CREATE INDEX IF NOT EXISTS plw_session_users_id ON plw_session_users (domain_sessionid);
UPDATE plw_events SET domain_userid = (
    SELECT su.domain_userid FROM plw_session_users AS su
    WHERE su.domain_sessionid = plw_events.domain_sessionid
);
-- Statistics for the joins of the next steps (PostgreSQL never analyses temp tables itself).
ANALYZE plw_events;
