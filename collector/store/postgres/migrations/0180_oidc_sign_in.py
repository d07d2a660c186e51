"""console single sign-on (OIDC) (PostgreSQL twin of SQLite's 0180)"""

NAME = "console single sign-on (OIDC)"

SQL = """
ALTER TABLE accounts ADD COLUMN sso_issuer TEXT;
ALTER TABLE accounts ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX accounts_sso_identity ON accounts (sso_issuer, sso_subject);
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
"""
