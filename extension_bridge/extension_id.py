"""The extension's id, derived from the public key pinned in manifest.json.

Chromium's rule: the first 32 hex digits of sha256(DER public key), each digit 0-f
written as a letter a-p. Pinning the key keeps the id stable for unpacked installs, so the
host manifest's `allowed_origins` can name it.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

EXTENSION_DIR = Path(__file__).resolve().parent / "extension"
MANIFEST_PATH = EXTENSION_DIR / "manifest.json"
EXTENSION_ID_FILE = Path(__file__).resolve().parent / "extension_id.txt"
_HEX_TO_LETTER = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def id_from_public_key(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()[:32].translate(_HEX_TO_LETTER)


def extension_id(manifest_path: Path = MANIFEST_PATH) -> str:
    """The id Chromium gives the extension whose manifest is at `manifest_path`."""
    manifest = json.loads(manifest_path.read_text("utf-8"))
    return id_from_public_key(base64.b64decode(manifest["key"], validate=True))


def committed_extension_id() -> str:
    """The id recorded in extension_id.txt (what installers use without parsing the manifest)."""
    return EXTENSION_ID_FILE.read_text("utf-8").strip()


if __name__ == "__main__":
    print(extension_id())
