-- Planner statistics for tables autovacuum has not analysed yet (e.g. right after a bulk
-- load): without them PostgreSQL scans all events instead of using the session index.
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_stat_user_tables WHERE schemaname = 'atomic' AND relname = 'events' AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)) THEN ANALYZE atomic.events; END IF; END $$;
