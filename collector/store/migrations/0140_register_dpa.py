"""register: the DPA's link, expiry date and owner

What an auditor asks after "is there a DPA": where it is, until when it holds, and who
keeps it. Empty text when unknown. Portable SQL for the PostgreSQL mirror."""

NAME = "register: the DPA's link, expiry date and owner"

SQL = """
ALTER TABLE register ADD COLUMN dpa_url TEXT NOT NULL DEFAULT '';
ALTER TABLE register ADD COLUMN dpa_expires TEXT NOT NULL DEFAULT '';   -- YYYY-MM-DD
ALTER TABLE register ADD COLUMN owner TEXT NOT NULL DEFAULT '';
"""
