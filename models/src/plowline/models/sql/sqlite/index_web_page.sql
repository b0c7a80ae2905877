CREATE INDEX IF NOT EXISTS atomic.plowline_models_web_page_root
    ON com_snowplowanalytics_snowplow_web_page_1 (root_id);
