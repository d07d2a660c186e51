"""SCM webhooks: merged changes, reviews, AI-marked commits"""

NAME = "SCM webhooks: merged changes, reviews, AI-marked commits"

SQL = """
CREATE TABLE scm_changes (
    provider TEXT NOT NULL,        -- github | gitlab
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL,
    merged_by TEXT NOT NULL DEFAULT '',
    merged_at TEXT,
    merge_sha TEXT NOT NULL DEFAULT '',
    head_sha TEXT NOT NULL DEFAULT '',
    ai_agents TEXT NOT NULL DEFAULT '[]',   -- JSON list of catalog tool ids
    url TEXT NOT NULL DEFAULT '',
    deployed_to TEXT NOT NULL DEFAULT '[]', -- JSON list of environments
    alert_id INTEGER,
    PRIMARY KEY (provider, repo, number)
);
CREATE INDEX scm_changes_merge_sha ON scm_changes(merge_sha);
CREATE TABLE scm_reviews (
    provider TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    reviewer TEXT NOT NULL,
    state TEXT NOT NULL,             -- approved | changes_requested | commented | unapproved
    at TEXT NOT NULL,
    PRIMARY KEY (provider, repo, number, reviewer)
);
CREATE TABLE scm_commits (           -- pushed commits carrying AI-authorship markers
    provider TEXT NOT NULL,
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    ref TEXT NOT NULL,               -- the branch it was pushed to
    ai_agents TEXT NOT NULL,
    PRIMARY KEY (provider, repo, sha)
);
CREATE INDEX scm_commits_ref ON scm_commits(provider, repo, ref);
"""
