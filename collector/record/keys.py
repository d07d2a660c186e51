"""The record's Ed25519 signing key: generated once (PEM, mode 0600, created atomically)
next to the database unless a path is given; signs export manifests and checkpoints.

Kept beside the database, the key lets the database's owner rewrite the record and sign it
again. Two ways apart: a path of its own (--key / SHADOWMAP_RECORD_KEY, a folder another
owner controls), or an external signing command (SHADOWMAP_RECORD_SIGN_COMMAND, with the
public half in SHADOWMAP_RECORD_PUBLIC_KEY): the collector hands it the bytes to sign and
never holds the private key, e.g. `sudo -n -u shadowmap-signer shadowmap collector record
sign --key /etc/shadowmap-signer/record.pem`."""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import shlex
import subprocess
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shadowmap.collector.private_files import read_or_create

log = logging.getLogger(__name__)
KEY_FILE_NAME = "record_signing_key.pem"
KEY_PATH_ENV = "SHADOWMAP_RECORD_KEY"  # the key file, for the collector and its commands alike
SIGN_COMMAND_ENV = "SHADOWMAP_RECORD_SIGN_COMMAND"
PUBLIC_KEY_ENV = "SHADOWMAP_RECORD_PUBLIC_KEY"
SIGN_TIMEOUT_S = 30.0


class SignerError(RuntimeError):
    """The external signing command failed or gave a signature its public key refuses."""


class CommandSigner(Ed25519PrivateKey):
    """An Ed25519 key held by another program: ``sign`` runs ``argv`` with the data on stdin
    and reads the base64 signature from stdout, checked against the public key before use.
    It stands wherever the record takes its key; the private bytes are never here."""

    def __init__(self, argv: list[str], public: Ed25519PublicKey):
        self.argv = argv
        self._public = public

    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def sign(self, data: bytes | bytearray | memoryview) -> bytes:
        data = bytes(data)
        try:
            done = subprocess.run(self.argv, input=data, capture_output=True, timeout=SIGN_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SignerError(f"the signing command did not run: {exc}") from None
        if done.returncode != 0:
            raise SignerError(f"the signing command failed ({done.returncode}): "
                              f"{done.stderr.decode('utf-8', 'replace')[-300:]}")
        signature = done.stdout.strip()
        if not signature_valid(self._public, data, signature.decode("ascii", "replace")):
            raise SignerError("the signing command's signature does not verify with the configured public key")
        return base64.b64decode(signature)

    def private_bytes(self, encoding, format, encryption_algorithm) -> bytes:
        raise TypeError("the record key is held by the signing command")

    def private_bytes_raw(self) -> bytes:
        raise TypeError("the record key is held by the signing command")

    def __copy__(self) -> CommandSigner:
        return self

    def __deepcopy__(self, memo: dict) -> CommandSigner:
        return self


def signer_from_env(environ: dict[str, str] | None = None) -> CommandSigner | None:
    """The external signer the environment configures, or None."""
    env = os.environ if environ is None else environ
    command = env.get(SIGN_COMMAND_ENV, "").strip()
    if not command:
        return None
    public_path = env.get(PUBLIC_KEY_ENV)
    if not public_path:
        raise ValueError(f"{SIGN_COMMAND_ENV} needs {PUBLIC_KEY_ENV}: the signing key's public half (PEM)")
    return CommandSigner(shlex.split(command), load_public_pem(Path(public_path).read_bytes()))


def record_key(path: Path) -> Ed25519PrivateKey:
    """The record's key: the external signer if one is configured, else the key file at path."""
    return signer_from_env() or load_or_create_key(path)


def named_key_path(given: Path | None) -> Path | None:
    """The key file the caller names, else $SHADOWMAP_RECORD_KEY's; None: the default next to
    the database (default_key_path). The collector and its commands resolve it alike."""
    return given or (Path(os.environ[KEY_PATH_ENV]) if os.environ.get(KEY_PATH_ENV) else None)


def default_key_path(db_path: Path) -> Path:
    return Path(db_path).parent / KEY_FILE_NAME


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    pem = read_or_create(path, lambda: Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "record signing key")
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key if isinstance(key, Ed25519PublicKey) else key.public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """sha256 of the raw public key, hex: what an auditor pins."""
    public = key if isinstance(key, Ed25519PublicKey) else key.public_key()
    return hashlib.sha256(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def load_public_pem(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def signature_valid(public: Ed25519PublicKey, data: bytes, signature_b64: str) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
