"""Configurable enrichments (facts §6) and the loader of their SDJ configuration files."""
