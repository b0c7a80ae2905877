"""`plowline up`: collector, enricher and embedded store in one process, with a
Snowplow-Micro-compatible inspection API (`/micro/...`) and a web UI (`/micro/ui`)."""
