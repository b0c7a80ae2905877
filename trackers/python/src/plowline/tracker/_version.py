"""The package version, in one place."""

__version__ = "0.1.0"
TRACKER_VERSION = f"py-plowline-{__version__}"
"""Sent as ``tv`` (enriched v_tracker): language prefix, then this tracker's name and version."""
