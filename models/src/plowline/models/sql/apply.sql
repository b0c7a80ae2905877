-- Replace the rows of the sessions in scope (and of their users) with the freshly derived ones.
DROP TABLE IF EXISTS plw_user_scope;
CREATE TEMP TABLE plw_user_scope AS
SELECT domain_userid FROM derived.sessions
WHERE domain_sessionid IN (SELECT domain_sessionid FROM plw_scope)
UNION
SELECT domain_userid FROM plw_sessions;
ANALYZE plw_user_scope;

DELETE FROM derived.page_views
WHERE domain_sessionid IN (SELECT domain_sessionid FROM plw_scope)
   OR page_view_id IN (SELECT page_view_id FROM plw_page_views);
INSERT INTO derived.page_views SELECT * FROM plw_page_views;

DELETE FROM derived.sessions
WHERE domain_sessionid IN (SELECT domain_sessionid FROM plw_scope);
INSERT INTO derived.sessions SELECT * FROM plw_sessions;

DROP TABLE IF EXISTS plw_users;
CREATE TEMP TABLE plw_users AS
WITH scoped AS (
    SELECT s.*
    FROM derived.sessions AS s
    JOIN plw_user_scope AS u ON u.domain_userid = s.domain_userid
),
ranked AS (
    SELECT
        scoped.*,
        ROW_NUMBER() OVER (
            PARTITION BY domain_userid ORDER BY start_tstamp, domain_sessionid{{c}}
        ) AS first_rn,
        ROW_NUMBER() OVER (
            PARTITION BY domain_userid ORDER BY start_tstamp DESC, domain_sessionid{{c}} DESC
        ) AS last_rn
    FROM scoped
),
known AS (
    SELECT
        domain_userid,
        user_id,
        ROW_NUMBER() OVER (
            PARTITION BY domain_userid ORDER BY end_tstamp DESC, domain_sessionid{{c}} DESC
        ) AS rn
    FROM scoped
    WHERE user_id IS NOT NULL
),
totals AS (
    SELECT
        domain_userid,
        MIN(start_tstamp) AS start_at,
        MAX(end_tstamp) AS end_at,
        COUNT(*) AS n_sessions,
        SUM(page_views) AS n_views,
        SUM(engaged_time_s) AS engaged
    FROM scoped
    GROUP BY domain_userid
)
SELECT
    t.domain_userid,
    k.user_id,
    f.network_userid,
    t.start_at AS start_tstamp,
    t.end_at AS end_tstamp,
    t.n_sessions AS sessions,
    t.n_views AS page_views,
    t.engaged AS engaged_time_s,
    f.domain_sessionid AS first_session_id,
    f.first_page_url,
    f.channel AS first_channel,
    f.refr_source AS first_refr_source,
    f.mkt_source AS first_mkt_source,
    f.mkt_campaign AS first_mkt_campaign,
    l.domain_sessionid AS last_session_id,
    l.last_page_url,
    l.channel AS last_channel
FROM totals AS t
JOIN ranked AS f ON f.domain_userid = t.domain_userid AND f.first_rn = 1
JOIN ranked AS l ON l.domain_userid = t.domain_userid AND l.last_rn = 1
LEFT JOIN known AS k ON k.domain_userid = t.domain_userid AND k.rn = 1;

DELETE FROM derived.users
WHERE domain_userid IN (SELECT domain_userid FROM plw_user_scope);
INSERT INTO derived.users SELECT * FROM plw_users;

DELETE FROM derived.plowline_models_manifest WHERE model = 'web';
INSERT INTO derived.plowline_models_manifest
    (model, high_water, lower_bound, mode, lookback_s, sessions_rebuilt, run_at)
SELECT 'web', high_water, lower_bound, mode, lookback_s, (SELECT COUNT(*) FROM plw_scope), run_at
FROM plw_run;
