"""AI coding sessions' timelines (twin of SQLite's 0220)"""

NAME = "AI coding sessions' timelines"

SQL = """
CREATE TABLE ai_session_steps (
    device_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    steps TEXT NOT NULL DEFAULT '[]',
    steps_not_sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, tool_id, session_id)
);
"""
