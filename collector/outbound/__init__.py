"""Outbound delivery: the queue of messages to sinks (webhooks, Slack, OCSF) and its sender."""
