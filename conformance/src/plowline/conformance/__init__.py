"""plowline-conformance: services, harness and the `plowline` CLI."""

__version__ = "0.1.0"
