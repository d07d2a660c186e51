"""register: the DPA's link, expiry date and owner (PostgreSQL twin of SQLite's 0140)"""

NAME = "register: the DPA's link, expiry date and owner"

SQL = """
ALTER TABLE register ADD COLUMN dpa_url TEXT NOT NULL DEFAULT '';
ALTER TABLE register ADD COLUMN dpa_expires TEXT NOT NULL DEFAULT '';
ALTER TABLE register ADD COLUMN owner TEXT NOT NULL DEFAULT '';
"""
