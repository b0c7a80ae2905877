-- Indexes the incremental run needs: new events by time, their sessions' events by session id.
CREATE INDEX IF NOT EXISTS plowline_models_events_tstamp ON atomic.events (collector_tstamp);
CREATE INDEX IF NOT EXISTS plowline_models_events_session ON atomic.events (domain_sessionid);
CREATE INDEX IF NOT EXISTS plowline_models_page_views_session ON derived.page_views (domain_sessionid);
CREATE INDEX IF NOT EXISTS plowline_models_page_views_id ON derived.page_views (page_view_id);
CREATE INDEX IF NOT EXISTS plowline_models_sessions_user ON derived.sessions (domain_userid);
