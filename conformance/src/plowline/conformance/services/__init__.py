"""Real services for tests and development: attach, testcontainers, or local processes."""
