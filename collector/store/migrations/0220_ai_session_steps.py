"""AI coding sessions' timelines

ai_session_steps: per session (device, tool, session id), the newest timeline its
ai_session.recorded event carried: a JSON list of steps {at, kind, name?, count} (prompts,
shell programs, file edits by path, MCP servers, findings by entity type: names and counts,
never text), and how many steps the agent left out past its bound."""

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
