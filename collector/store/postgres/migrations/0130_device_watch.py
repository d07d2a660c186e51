"""device watch (twin of SQLite's 0130)"""

NAME = "device watch: devices that go dark, retire on purpose, or lose the extension"

SQL = """
CREATE TABLE device_watch (
    device_id TEXT PRIMARY KEY,
    retired_at TEXT COLLATE "C",
    retired_reason TEXT,
    extensions TEXT NOT NULL DEFAULT '[]',
    extensions_at TEXT COLLATE "C"
);
"""
