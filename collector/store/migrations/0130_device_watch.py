"""device watch: devices that go dark, retire on purpose, or lose the extension

One row per device the watch knows more about than `devices` says: when it retired on
purpose (an MDM uninstall sends agent.retiring: its silence then raises nothing) and the
extension's state in each force-installed browser profile from its last heartbeat."""

NAME = "device watch: devices that go dark, retire on purpose, or lose the extension"

SQL = """
CREATE TABLE device_watch (
    device_id TEXT PRIMARY KEY,
    retired_at TEXT,
    retired_reason TEXT,
    extensions TEXT NOT NULL DEFAULT '[]',
    extensions_at TEXT
);
"""
