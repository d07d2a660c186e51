"""console single sign-on (OIDC)

accounts made by single sign-on remember the provider (issuer) and its subject (`sub`), the
pair that identifies them there; one account per pair. oidc_logins: the sign-ins under way,
between the redirect to the provider and its answer: looked up by a hash of `state`, bound
to the browser by a hash of a cookie, used once. Portable SQL for the PostgreSQL mirror."""

NAME = "console single sign-on (OIDC)"

SQL = """
ALTER TABLE accounts ADD COLUMN sso_issuer TEXT;
ALTER TABLE accounts ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX accounts_sso_identity ON accounts (sso_issuer, sso_subject);
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,   -- sha256 hex of the state sent to the provider
    browser_hash TEXT NOT NULL,    -- sha256 hex of the cookie that started it
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,   -- PKCE
    redirect_uri TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""
