"""Deployments told by Vercel and Netlify webhooks (twin of SQLite's 0160)"""

NAME = "Deployments told by Vercel and Netlify webhooks"

SQL = """
CREATE TABLE deploy_deliveries (
    provider TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (provider, delivery_key)
);
CREATE TABLE deploys (
    provider TEXT NOT NULL,
    deploy_id TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    repo TEXT NOT NULL DEFAULT '',
    sha TEXT NOT NULL DEFAULT '',
    branch TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    verdict TEXT NOT NULL DEFAULT '',
    alert_id BIGINT,
    received_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (provider, deploy_id)
);
CREATE TABLE deploy_projects (
    provider TEXT NOT NULL,
    project TEXT NOT NULL,
    canonical_repo TEXT NOT NULL,
    PRIMARY KEY (provider, project)
);
"""
