"""Configurable enrichments (Snowplow's enrichment docs) and the loader of their SDJ configs."""
