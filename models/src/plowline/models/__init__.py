"""plowline-models: incremental SQL data models."""

__version__ = "0.1.0"
