"""org catalog overlay: tools added from the unknown-tools queue"""

NAME = "org catalog overlay: tools added from the unknown-tools queue"

SQL = """
CREATE TABLE catalog_overlay (
    kind TEXT NOT NULL,            -- domain | process
    name TEXT NOT NULL,            -- lowercase domain (no port) or process name
    tool_id TEXT NOT NULL,
    vendor TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE INDEX catalog_overlay_tool ON catalog_overlay(tool_id);
"""
