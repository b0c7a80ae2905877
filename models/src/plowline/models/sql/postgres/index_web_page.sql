CREATE INDEX IF NOT EXISTS plowline_models_web_page_root
    ON atomic.com_snowplowanalytics_snowplow_web_page_1 (root_id);
