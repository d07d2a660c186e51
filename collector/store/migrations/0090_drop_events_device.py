"""drop events_device: no query needs it, ingest writes it per event

Every index on `events` is written for every stored event. No query filters events by
device alone (by type and time: events_type_ts; retention: events_received_at; by id: the key)."""

NAME = "drop events_device: no query needs it, ingest writes it per event"

SQL = """
DROP INDEX IF EXISTS events_device;
"""
