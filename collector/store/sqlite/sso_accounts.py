"""Console single sign-on (OIDC) in the database: the sign-ins under way (one row per
redirect to the provider, used once) and the accounts single sign-on provisions, known by
the provider's issuer and subject. Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from shadowmap.collector.store.sqlite.accounts import ROLES
from shadowmap.collector.timestamps import utc_now


@dataclass(frozen=True)
class PendingLogin:
    browser_hash: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_path: str


def save_login(db: sqlite_utils.Database, state_hash: str, login: PendingLogin, expires_at: str,
               max_pending: int) -> bool:
    """Writer fn: a sign-in under way, unless ``max_pending`` are already (False); the
    expired ones are dropped on the way."""
    db.execute("DELETE FROM oidc_logins WHERE expires_at <= ?", (utc_now(),))
    if pending_count(db) >= max_pending:
        return False
    db.execute("INSERT INTO oidc_logins (state_hash, browser_hash, nonce, code_verifier, redirect_uri, next_path,"
               " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (state_hash, login.browser_hash, login.nonce, login.code_verifier, login.redirect_uri,
                login.next_path, expires_at))
    return True


def take_login(db: sqlite_utils.Database, state_hash: str) -> PendingLogin | None:
    """Writer fn: the unexpired sign-in with this state, removed (a state works once; of two
    nodes answering the same state, only the one whose delete took the row gets it)."""
    rows = list(db.query("SELECT browser_hash, nonce, code_verifier, redirect_uri, next_path FROM oidc_logins"
                         " WHERE state_hash = ? AND expires_at > ?", (state_hash, utc_now())))
    if not rows or db.execute("DELETE FROM oidc_logins WHERE state_hash = ?", (state_hash,)).rowcount != 1:
        return None
    return PendingLogin(**rows[0])


def pending_count(db: sqlite_utils.Database) -> int:
    return int(next(db.query("SELECT count(*) AS n FROM oidc_logins"))["n"])


def sso_account(db: sqlite_utils.Database, issuer: str, subject: str) -> dict[str, Any] | None:
    """The account single sign-on made for this provider subject: username, role, disabled_at."""
    rows = list(db.query("SELECT username, role, disabled_at FROM accounts WHERE sso_issuer = ? AND sso_subject = ?",
                         (issuer, subject)))
    return rows[0] if rows else None


def sso_issuer_of(db: sqlite_utils.Database, username: str) -> str | None:
    """The provider an account signs in through, None for a local account."""
    rows = list(db.query("SELECT sso_issuer FROM accounts WHERE username = ?", (username,)))
    return rows[0]["sso_issuer"] if rows else None


def provision(db: sqlite_utils.Database, issuer: str, subject: str, username: str, role: str,
              unusable_password_hash: str) -> tuple[str, str]:
    """Writer fn: create or update the account of this provider subject with ``role``
    (just-in-time provisioning). Returns the outcome and the account's username; the
    outcome is "created", "updated", "disabled" (the account
    exists and is disabled: left as it is) or "taken" (``username`` belongs to another
    account: a local one, or another subject's). An account keeps the username it was made
    with (other tables refer to it) when the provider's changes. ``unusable_password_hash``
    is the hash of a secret nobody keeps: the account has no password to sign in with."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    known = sso_account(db, issuer, subject)
    if known is not None and known["disabled_at"] is not None:
        return "disabled", known["username"]
    if known is None:
        if list(db.query("SELECT 1 FROM accounts WHERE username = ?", (username,))):
            return "taken", username
        db.execute("INSERT INTO accounts (username, password_hash, role, created_at, sso_issuer, sso_subject)"
                   " VALUES (?, ?, ?, ?, ?, ?)", (username, unusable_password_hash, role, utc_now(), issuer, subject))
        return "created", username
    db.execute("UPDATE accounts SET role = ? WHERE sso_issuer = ? AND sso_subject = ?", (role, issuer, subject))
    return "updated", known["username"]
