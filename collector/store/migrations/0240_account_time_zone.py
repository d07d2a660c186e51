"""accounts' time zone

Each console account's time zone, an IANA name (Europe/Berlin), in which the console writes
exact times for it (the machine-readable time stays UTC). Every account starts on UTC.
Portable SQL for the PostgreSQL mirror."""

NAME = "accounts' time zone"

SQL = """
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
"""
