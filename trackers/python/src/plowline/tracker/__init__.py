"""plowline-tracker: a Snowplow-protocol tracker for Python."""

__version__ = "0.1.0"
