"""Console accounts, their sessions and API tokens. Passwords arrive hashed (argon2id) and
tokens are looked up by their sha256: no secret is ever stored. A disabled account cannot
sign in and its sessions stop working; a token works until it expires or is revoked.
Portable SQL (SQLite and PostgreSQL)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from shadowmap.collector.timestamps import utc_now

ROLES = ("viewer", "analyst", "admin")  # each role can do everything the ones before it can


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def count_accounts(db: sqlite_utils.Database) -> int:
    return int(next(db.query("SELECT count(*) AS n FROM accounts"))["n"])


def create_account(db: sqlite_utils.Database, username: str, password_hash: str, role: str = "admin") -> bool:
    """Writer fn: False when the account exists already."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    cursor = db.execute(
        "INSERT INTO accounts (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(username) DO NOTHING",
        (username, password_hash, role, utc_now()),
    )
    return bool(cursor.rowcount == 1)


def set_disabled(db: sqlite_utils.Database, username: str, disabled: bool) -> bool:
    """Writer fn: disable (its sessions end) or enable an account; False when there is none."""
    changed = db.execute("UPDATE accounts SET disabled_at = ? WHERE username = ?",
                         (utc_now() if disabled else None, username)).rowcount
    if disabled:
        end_sessions_of(db, username)
    return bool(changed)


def delete_account(db: sqlite_utils.Database, username: str) -> bool:
    """Writer fn: the account and its sessions go; False when there is none."""
    end_sessions_of(db, username)
    return bool(db.execute("DELETE FROM accounts WHERE username = ?", (username,)).rowcount)


def set_password(db: sqlite_utils.Database, username: str, password_hash: str, keep_session: str | None = None) -> bool:
    """Writer fn: a new password hash; every session of the account ends but ``keep_session``
    (the hash of the session that made the change). False when there is no such account."""
    changed = db.execute("UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE username = ?"
                         " AND sso_issuer IS NULL",  # a single sign-on account's password is its provider's
                         (password_hash, utc_now(), username)).rowcount
    db.execute("DELETE FROM sessions WHERE username = ? AND token_hash != ?", (username, keep_session or ""))
    return bool(changed)


def set_time_zone(db: sqlite_utils.Database, username: str, time_zone: str) -> bool:
    """Writer fn: the account's time zone (an IANA name the caller checked). False when there is no such account."""
    return bool(db.execute("UPDATE accounts SET time_zone = ? WHERE username = ?", (time_zone, username)).rowcount)


def end_sessions_of(db: sqlite_utils.Database, username: str) -> None:
    db.execute("DELETE FROM sessions WHERE username = ?", (username,))


def set_account_role(db: sqlite_utils.Database, username: str, role: str) -> bool:
    """Writer fn: False when there is no such account."""
    return bool(db.execute("UPDATE accounts SET role = ? WHERE username = ?", (role, username)).rowcount)


def password_hash_of(db: sqlite_utils.Database, username: str) -> str | None:
    """The password hash of an enabled account (None for a disabled or unknown one)."""
    rows = list(db.query("SELECT password_hash FROM accounts WHERE username = ? AND disabled_at IS NULL",
                         (username,)))
    return str(rows[0]["password_hash"]) if rows else None


def account_exists(db: sqlite_utils.Database, username: str) -> bool:
    return bool(list(db.query("SELECT 1 FROM accounts WHERE username = ?", (username,))))


def usernames(db: sqlite_utils.Database) -> list[str]:
    return [str(row["username"]) for row in db.query("SELECT username FROM accounts ORDER BY username")]


def list_accounts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT username, role, created_at, disabled_at, password_changed_at, sso_issuer"
                         " FROM accounts ORDER BY username"))


def signs_in_through_sso(db: sqlite_utils.Database, username: str) -> bool:
    """Whether the account is a single sign-on one (made by the OIDC sign-in; no password here)."""
    return any(db.query("SELECT 1 FROM accounts WHERE username = ? AND sso_issuer IS NOT NULL", (username,)))


def create_api_token(db: sqlite_utils.Database, name: str, role: str = "viewer", created_by: str = "",
                     expires_at: str | None = None) -> str:
    """Writer fn: a new API token with ``role``, valid until ``expires_at`` (None: never, for
    callers that predate expiry); returns it (only its hash is stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO api_tokens (token_hash, name, created_at, role, created_by, expires_at)"
               " VALUES (?, ?, ?, ?, ?, ?)", (token_hash(token), name, utc_now(), role, created_by, expires_at))
    return token


def token_expiry(days: int) -> str:
    """When a token made now for ``days`` stops working."""
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def token_id(hashed: str) -> str:
    """A token's public id: the start of its hash (shown, and given to revoke it)."""
    return hashed[:TOKEN_ID_LENGTH]


TOKEN_ID_LENGTH = 16


def list_api_tokens(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return [{**row, "id": token_id(row.pop("token_hash"))} for row in db.query(
        "SELECT token_hash, name, role, created_at, created_by, expires_at, revoked_at FROM api_tokens"
        " ORDER BY created_at")]


def revoke_api_token(db: sqlite_utils.Database, public_id: str) -> dict[str, Any] | None:
    """Writer fn: revoke the token with this id; its name, or None when no live token has it."""
    if len(public_id) != TOKEN_ID_LENGTH:
        return None
    rows = list(db.query("SELECT token_hash, name FROM api_tokens WHERE substr(token_hash, 1, ?) = ?"
                         " AND revoked_at IS NULL", (TOKEN_ID_LENGTH, public_id)))
    if len(rows) != 1:
        return None
    db.execute("UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ?", (utc_now(), rows[0]["token_hash"]))
    return {"id": public_id, "name": rows[0]["name"]}


def api_token_by_hash(db: sqlite_utils.Database, hashed: str, now: str | None = None) -> dict[str, Any] | None:
    """The name and role of the live (unexpired, unrevoked) token with this hash."""
    rows = list(db.query("SELECT name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"
                         " AND (expires_at IS NULL OR expires_at > ?)", (hashed, now or utc_now())))
    return rows[0] if rows else None


def session_by_hash(db: sqlite_utils.Database, hashed: str, now: str) -> dict[str, Any] | None:
    """The username, CSRF token, role and time zone of an unexpired session."""
    rows = list(db.query(
        "SELECT s.username, s.csrf_token, a.role, a.time_zone FROM sessions s JOIN accounts a ON a.username = s.username "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND a.disabled_at IS NULL", (hashed, now)))
    return rows[0] if rows else None


def start_session(db: sqlite_utils.Database, hashed: str, username: str, csrf: str, now: str, expires: str) -> None:
    """Writer fn: a new session; expired ones are dropped on the way."""
    db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
    db.execute(
        "INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (hashed, username, csrf, now, expires),
    )


def end_session(db: sqlite_utils.Database, hashed: str) -> None:
    db.execute("DELETE FROM sessions WHERE token_hash = ?", (hashed,))
