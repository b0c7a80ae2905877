"""pytest plugin providing the `postgres`, `kafka` and `aws` fixtures (filled in by the services work)."""
