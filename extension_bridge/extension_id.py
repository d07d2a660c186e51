"""The extension's id, derived from the public key pinned in manifest.json.

Chromium's rule: the first 32 hex digits of sha256(DER public key), each digit 0-f
written as a letter a-p. Pinning the key keeps the id stable for unpacked installs, so the
host manifest's `allowed_origins` can name it. The id itself is recorded in the contract
(schema/host.v1.json), so installers need not parse the manifest; a test keeps the two equal.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from shadowmap.contract.host import CHROMIUM_EXTENSION_ID
from shadowmap.contract.host import chromium_id_from_public_key as id_from_public_key

EXTENSION_DIR = Path(__file__).resolve().parent / "extension"
MANIFEST_PATH = EXTENSION_DIR / "manifest.json"


def extension_id(manifest_path: Path = MANIFEST_PATH) -> str:
    """The id Chromium gives the extension whose manifest is at `manifest_path`."""
    manifest = json.loads(manifest_path.read_text("utf-8"))
    return id_from_public_key(base64.b64decode(manifest["key"], validate=True))


def committed_extension_id() -> str:
    """The id recorded in the contract (what installers use without parsing the manifest)."""
    return CHROMIUM_EXTENSION_ID


if __name__ == "__main__":
    print(extension_id())
