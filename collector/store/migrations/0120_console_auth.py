"""console sign-in throttling and account lifecycle

Failed sign-ins counted per username and per client address (backoff, lockout); accounts
can be disabled and remember when their password changed; API tokens expire and can be
revoked. Portable SQL for the PostgreSQL mirror."""

NAME = "console sign-in throttling and account lifecycle"

SQL = """
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,          -- 'user:<username>' or 'addr:<client address>'
    failures INTEGER NOT NULL,     -- consecutive failed sign-ins
    last_failed_at TEXT NOT NULL,
    locked_until TEXT              -- set once failures reach the lockout threshold
);
ALTER TABLE accounts ADD COLUMN disabled_at TEXT;
ALTER TABLE accounts ADD COLUMN password_changed_at TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
"""
