"""the register's vendor compared without case, as on SQLite (PostgreSQL only)

SQLite keys the register by `vendor TEXT PRIMARY KEY COLLATE NOCASE`: "anthropic" updates
"Anthropic", and a lookup or delete by either spelling finds it. 0092 gave PostgreSQL only a
unique index on lower(vendor), so the same upsert failed on it and lookups were
case-sensitive. citext (a trusted extension shipped with PostgreSQL: a database owner may
create it) makes the column's =, IN, key and ON CONFLICT ignore case, as NOCASE does."""

NAME = "register vendors compared without case (citext), as SQLite's NOCASE"

SQL = """
CREATE EXTENSION IF NOT EXISTS citext;
DROP INDEX register_vendor_nocase;
ALTER TABLE register ALTER COLUMN vendor TYPE citext;
"""
