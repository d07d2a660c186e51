"""device watch: AI browsers (twin of SQLite's 0131)"""

NAME = "device watch: the AI browsers of each device and whether the extension is in them"

SQL = """
ALTER TABLE device_watch ADD COLUMN ai_browsers TEXT NOT NULL DEFAULT '{}';
"""
