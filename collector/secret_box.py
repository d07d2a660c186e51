"""Secrets at rest: the org key and the webhook and sink secrets are stored sealed
(AES-256-GCM) with a key kept outside the database, so a copy of the database (a backup,
a replica, a PostgreSQL dump, a database admin) does not reveal them.

The key is a 0600 file, `secrets.key` next to the database by default, or the file named by
SHADOWMAP_SECRETS_KEY_FILE or the collector's `secrets_key_file`; collector nodes that share
one database must share this file. A sealed value is `sealed:v1:<key id>:<base64 nonce +
ciphertext>`, bound to the setting it belongs to (a value copied under another name does not
open). Store functions seal and unseal through the process's installed keys (`install`):
the app factory and the commands that touch secrets install the key before they open the
store."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shadowmap.collector.private_files import read_or_create

KEY_FILE_ENV = "SHADOWMAP_SECRETS_KEY_FILE"
KEY_FILE_NAME = "secrets.key"
PREFIX = "sealed:v1:"
NONCE_BYTES = 12


class SecretBoxError(RuntimeError):
    """A sealed value cannot be opened (no key for it, or it was altered), or there is no key to seal with."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise SecretBoxError("a secrets key is 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"shadowmap secrets key id\0" + key).hexdigest()[:16]

    def seal(self, purpose: str, plaintext: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), purpose.encode("utf-8"))
        return f"{PREFIX}{self.key_id}:" + base64.b64encode(nonce + sealed).decode("ascii")

    def unseal(self, purpose: str, stored: str) -> str:
        raw = base64.b64decode(stored.rsplit(":", 1)[1])
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise SecretBoxError(f"the sealed {purpose} was altered or belongs to another setting") from None


_lock = threading.Lock()
_boxes: dict[str, SecretBox] = {}
_current: SecretBox | None = None


def key_path(db_folder: Path, configured: Path | None = None) -> Path:
    """Where the key is: the configured file, else $SHADOWMAP_SECRETS_KEY_FILE, else next to the database."""
    if configured is not None:
        return Path(configured)
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    return Path(db_folder) / KEY_FILE_NAME


def load_or_create(path: Path) -> SecretBox:
    """The key in ``path`` (created 0600 with 32 random bytes, base64, when missing)."""
    text = read_or_create(path, lambda: base64.b64encode(secrets.token_bytes(32)) + b"\n", "secrets key")
    try:
        return SecretBox(base64.b64decode(text.strip(), validate=True))
    except ValueError:
        raise SecretBoxError(f"{path} is not a base64 secrets key") from None


def install(box: SecretBox) -> SecretBox:
    """Seal new values with ``box`` from now on; values sealed with any installed key still open."""
    global _current
    with _lock:
        _boxes[box.key_id] = box
        _current = box
    return box


def install_from(path: Path) -> SecretBox:
    return install(load_or_create(path))


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def seal(purpose: str, plaintext: str) -> str:
    box = _current
    if box is None:
        raise SecretBoxError("no secrets key is loaded: the collector keeps no secret in the clear")
    return box.seal(purpose, plaintext)


def unseal(purpose: str, stored: str) -> str:
    """The plaintext of a sealed value; a value stored before sealing existed is returned as is
    (the collector seals those at its next start)."""
    if not is_sealed(stored):
        return stored
    key_id = stored[len(PREFIX):].split(":", 1)[0]
    box = _boxes.get(key_id)
    if box is None:
        raise SecretBoxError(f"the sealed {purpose} needs secrets key {key_id}, which is not loaded")
    return box.unseal(purpose, stored)
