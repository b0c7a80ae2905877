-- SQLite names the attached database on the index, not on the table.
CREATE INDEX IF NOT EXISTS atomic.plowline_models_events_tstamp ON events (collector_tstamp);
CREATE INDEX IF NOT EXISTS atomic.plowline_models_events_session ON events (domain_sessionid);
CREATE INDEX IF NOT EXISTS derived.plowline_models_page_views_session ON page_views (domain_sessionid);
CREATE INDEX IF NOT EXISTS derived.plowline_models_page_views_id ON page_views (page_view_id);
CREATE INDEX IF NOT EXISTS derived.plowline_models_sessions_user ON sessions (domain_userid);
