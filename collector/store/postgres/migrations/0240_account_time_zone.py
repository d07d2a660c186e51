"""accounts' time zone (PostgreSQL twin of SQLite's 0240)"""

NAME = "accounts' time zone"

SQL = """
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
"""
