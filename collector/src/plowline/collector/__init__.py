"""plowline-collector: Snowplow-compatible HTTP collector."""

__version__ = "0.1.0"
