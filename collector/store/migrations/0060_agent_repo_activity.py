"""AI coding agents seen working in repositories (ai_agent.repo_activity)"""

NAME = "AI coding agents seen working in repositories (ai_agent.repo_activity)"

SQL = """
CREATE TABLE agent_repo_activity (
    device_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    repo TEXT NOT NULL,            -- shadowmap.contract.repo_names.normalise_repo: host/owner/name
    branch TEXT NOT NULL,          -- '' on a detached HEAD
    user TEXT NOT NULL,            -- the event's user
    process_user TEXT NOT NULL,    -- '' when the agent could not read it
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (device_id, tool_id, repo, branch)
) WITHOUT ROWID;
CREATE INDEX agent_repo_activity_repo ON agent_repo_activity(repo, branch, last_seen);
"""
