"""The extension as shipped: its pinned id, its manifest, and its agreement with the
catalog and with the host registration."""
from __future__ import annotations

import base64
import hashlib
import json
import re

from extension_bridge.build_extension import catalog_patterns, match_patterns
from extension_bridge.extension_id import (EXTENSION_DIR, MANIFEST_PATH, committed_extension_id,
                                           extension_id, id_from_public_key)
from extension_bridge.install import HOST_NAME

MANIFEST = json.loads(MANIFEST_PATH.read_text())


def test_python_id_matches_the_committed_id():
    assert extension_id() == committed_extension_id()
    assert re.fullmatch(r"[a-p]{32}", committed_extension_id())


def test_id_rule_is_sha256_of_the_key_mapped_to_letters():
    der = base64.b64decode(MANIFEST["key"])
    digest = hashlib.sha256(der).hexdigest()[:32]
    assert id_from_public_key(der) == "".join(chr(ord("a") + int(c, 16)) for c in digest)


def test_manifest_only_holds_a_public_key():
    assert "PRIVATE" not in MANIFEST_PATH.read_text()
    assert not list(EXTENSION_DIR.glob("*.pem"))


def test_manifest_declares_what_the_paste_guard_needs():
    assert MANIFEST["manifest_version"] == 3
    assert {"nativeMessaging", "storage"} <= set(MANIFEST["permissions"])
    script = MANIFEST["content_scripts"][0]
    assert script["run_at"] == "document_start" and script["all_frames"] is True
    for name in [*script["js"], MANIFEST["background"]["service_worker"]]:
        assert (EXTENSION_DIR / name).is_file()
    assert f"'{HOST_NAME}'" in (EXTENSION_DIR / MANIFEST["background"]["service_worker"]).read_text()


def test_match_patterns_cover_domain_and_subdomains():
    assert match_patterns(["claude.ai", "ChatGPT.com."]) == [
        "https://*.chatgpt.com/*", "https://*.claude.ai/*", "https://chatgpt.com/*", "https://claude.ai/*"]


def test_committed_manifest_matches_agree_with_the_catalog():
    patterns = MANIFEST["content_scripts"][0]["matches"]
    assert patterns == catalog_patterns()
    assert {"https://chatgpt.com/*", "https://claude.ai/*"} <= set(patterns)
