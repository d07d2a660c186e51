"""first day each tool was used (new vendors in reports)"""

NAME = "first day each tool was used (new vendors in reports)"

SQL = """
CREATE TABLE usage_first_seen (
    tool_id TEXT PRIMARY KEY,
    first_day TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO usage_first_seen (tool_id, first_day)
    SELECT tool_id, min(day) FROM usage_daily GROUP BY tool_id
"""
