"""Organisation-wide settings kept in `org_settings`: the org key (created once, used by
agents to key their hashes) and the current policy with its ETag. The org key and the
webhook secrets are stored sealed (shadowmap.collector.secret_box)."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

import sqlite_utils

from shadowmap import contract
from shadowmap.collector import secret_box
from shadowmap.collector.timestamps import utc_now

ORG_KEY = "org_key"
ORG_KEY_RETIRED = "org_key_retired"  # JSON list of {key, retired_at}: the keys older hashes were made with
POLICY = "policy"
POLICY_ETAG = "policy_etag"


def policy_etag(policy: dict[str, Any]) -> str:
    canonical = json.dumps(policy, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return '"' + hashlib.sha256(canonical).hexdigest()[:32] + '"'


def ensure_org_settings(db: sqlite_utils.Database, default_policy: dict[str, Any]) -> None:
    """Writer fn: create the org key and the initial policy if they do not exist yet."""
    contract.validate_policy(default_policy)
    db.execute(
        "INSERT INTO org_settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        (ORG_KEY, secret_box.seal(ORG_KEY, _new_org_key())),
    )
    seal_plaintext_secrets(db)
    if _get(db, POLICY) is None:
        set_policy(db, default_policy)


def set_policy(db: sqlite_utils.Database, policy: dict[str, Any]) -> str:
    """Writer fn: replace the policy (validated) and return its new ETag."""
    contract.validate_policy(policy)
    etag = policy_etag(policy)
    for name, value in ((POLICY, json.dumps(policy, sort_keys=True)), (POLICY_ETAG, etag)):
        _set(db, name, value)
    return etag


def _new_org_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def seal_plaintext_secrets(db: sqlite_utils.Database) -> list[str]:
    """Writer fn: seal the secrets a database from before sealing keeps in the clear; returns their names."""
    sealed = []
    for name in _SEALED:
        value = _get_raw(db, name)
        if value is not None and not secret_box.is_sealed(value):
            _set(db, name, value)
            sealed.append(name)
    return sealed


def rotate_org_key(db: sqlite_utils.Database) -> dict[str, Any]:
    """Writer fn: a new org key for enrollments from now on; the old one joins the retired
    keys (kept sealed: hashes made with it can still be checked). Returns the key ids."""
    old = org_key_b64(db)
    retired = retired_org_keys(db)
    retired.append({"key": old, "retired_at": utc_now()})
    _set(db, ORG_KEY_RETIRED, json.dumps(retired))
    _set(db, ORG_KEY, _new_org_key())
    return {"retired": key_id(old), "current": key_id(org_key_b64(db))}


def retired_org_keys(db: sqlite_utils.Database) -> list[dict[str, str]]:
    value = _get(db, ORG_KEY_RETIRED)
    return list(json.loads(value)) if value else []


def key_id(key_b64: str) -> str:
    """A name for an org key that reveals nothing of it (shown by `org-key show`)."""
    return hashlib.sha256(b"shadowmap org key id\0" + base64.b64decode(key_b64)).hexdigest()[:16]


def org_key_b64(db: sqlite_utils.Database) -> str:
    value = _get(db, ORG_KEY)
    if value is None:
        raise RuntimeError("org settings are not initialised")
    return value


def current_policy(db: sqlite_utils.Database) -> tuple[str, str]:
    """The stored policy as JSON text, and its ETag."""
    policy, etag = _get(db, POLICY), _get(db, POLICY_ETAG)
    if policy is None or etag is None:
        raise RuntimeError("org settings are not initialised")
    return policy, etag


def _get(db: sqlite_utils.Database, name: str) -> str | None:
    value = _get_raw(db, name)
    return secret_box.unseal(name, value) if value is not None and name in _SEALED else value


def _get_raw(db: sqlite_utils.Database, name: str) -> str | None:
    rows = list(db.query("SELECT value FROM org_settings WHERE name = ?", (name,)))
    return rows[0]["value"] if rows else None


SCM_SECRETS = {"github": "scm_github_secret", "gitlab": "scm_gitlab_token"}
_SEALED = frozenset({ORG_KEY, ORG_KEY_RETIRED, *SCM_SECRETS.values()})


def scm_secret(db: sqlite_utils.Database, provider: str) -> str | None:
    """The shared secret of a provider's webhooks (github | gitlab), None until generated."""
    return _get(db, SCM_SECRETS[provider])


def set_scm_secret(db: sqlite_utils.Database, provider: str, value: str | None = None) -> str:
    """Writer fn: set (or generate) the webhook secret of a provider; returns it."""
    value = value or secrets.token_urlsafe(32)
    _set(db, SCM_SECRETS[provider], value)
    return value


def _set(db: sqlite_utils.Database, name: str, value: str) -> None:
    if name in _SEALED:
        value = secret_box.seal(name, value)
    db.execute("INSERT INTO org_settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
               (name, value))


def setting(db: sqlite_utils.Database, name: str) -> str | None:
    """An org setting's stored text, None when unset."""
    return _get(db, name)


def set_setting(db: sqlite_utils.Database, name: str, value: str) -> None:
    """Writer fn."""
    _set(db, name, value)


def delete_setting(db: sqlite_utils.Database, name: str) -> None:
    """Writer fn: the setting goes back to unset."""
    db.execute("DELETE FROM org_settings WHERE name = ?", (name,))
