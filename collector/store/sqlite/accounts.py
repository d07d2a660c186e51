"""Console accounts, their sessions and API tokens. Passwords arrive hashed (argon2id) and
tokens are looked up by their sha256: no secret is ever stored."""
from __future__ import annotations

import hashlib
import secrets
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
        "INSERT OR IGNORE INTO accounts (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
        (username, password_hash, role, utc_now()),
    )
    return bool(cursor.rowcount == 1)


def set_account_role(db: sqlite_utils.Database, username: str, role: str) -> bool:
    """Writer fn: False when there is no such account."""
    return bool(db.execute("UPDATE accounts SET role = ? WHERE username = ?", (role, username)).rowcount)


def password_hash_of(db: sqlite_utils.Database, username: str) -> str | None:
    rows = list(db.query("SELECT password_hash FROM accounts WHERE username = ?", (username,)))
    return str(rows[0]["password_hash"]) if rows else None


def account_exists(db: sqlite_utils.Database, username: str) -> bool:
    return bool(list(db.query("SELECT 1 FROM accounts WHERE username = ?", (username,))))


def usernames(db: sqlite_utils.Database) -> list[str]:
    return [str(row["username"]) for row in db.query("SELECT username FROM accounts ORDER BY username")]


def list_accounts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT username, role, created_at FROM accounts ORDER BY username"))


def create_api_token(db: sqlite_utils.Database, name: str, role: str = "viewer", created_by: str = "") -> str:
    """Writer fn: a new API token with ``role``; returns it (only its hash is stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO api_tokens (token_hash, name, created_at, role, created_by) VALUES (?, ?, ?, ?, ?)",
               (token_hash(token), name, utc_now(), role, created_by))
    return token


def list_api_tokens(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT name, role, created_at, created_by FROM api_tokens ORDER BY created_at"))


def api_token_by_hash(db: sqlite_utils.Database, hashed: str) -> dict[str, Any] | None:
    """The name and role of the token with this hash."""
    rows = list(db.query("SELECT name, role FROM api_tokens WHERE token_hash = ?", (hashed,)))
    return rows[0] if rows else None


def session_by_hash(db: sqlite_utils.Database, hashed: str, now: str) -> dict[str, Any] | None:
    """The username, CSRF token and role of an unexpired session."""
    rows = list(db.query(
        "SELECT s.username, s.csrf_token, a.role FROM sessions s JOIN accounts a ON a.username = s.username "
        "WHERE s.token_hash = ? AND s.expires_at > ?", (hashed, now)))
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
