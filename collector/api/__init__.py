"""The HTTP API: enroll, ingest, policy, SCM webhooks, the JSON APIs, metrics."""
