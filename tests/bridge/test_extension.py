"""The extension as shipped: its pinned id, its manifest, and its agreement with the
catalog and with the host registration."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess

from shadowmap.bridge.build_extension import FIREFOX_ADDON_ID, build_firefox, catalog_patterns, match_patterns
from shadowmap.bridge.extension_contract import CONTRACT_JS, CONTRACT_JS_NAME, render
from shadowmap.bridge.extension_id import (
    EXTENSION_DIR,
    MANIFEST_PATH,
    committed_extension_id,
    extension_id,
    id_from_public_key,
)
from shadowmap.contract import host

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
    # the shared constants load first, then the words; the service worker is an ES module
    assert script["js"][:2] == [CONTRACT_JS_NAME, "i18n.js"]
    assert MANIFEST["background"] == {"service_worker": "background.js", "type": "module"}
    assert f"import './{CONTRACT_JS_NAME}';" in (EXTENSION_DIR / "background.js").read_text()


def test_match_patterns_cover_domain_and_subdomains():
    assert match_patterns(["claude.ai", "ChatGPT.com."]) == [
        "https://*.chatgpt.com/*", "https://*.claude.ai/*", "https://chatgpt.com/*", "https://claude.ai/*"]


def test_committed_manifest_matches_agree_with_the_catalog():
    patterns = MANIFEST["content_scripts"][0]["matches"]
    assert patterns == catalog_patterns()
    assert {"https://chatgpt.com/*", "https://claude.ai/*"} <= set(patterns)


def test_unknown_ai_script_runs_everywhere_but_the_catalog():
    guard, unknown, _ = MANIFEST["content_scripts"]
    assert unknown["js"] == ["unknown_ai.js"] and unknown["exclude_matches"] == guard["matches"]
    assert set(unknown["matches"]) == {"https://*/*", "http://*/*"}


def test_file_system_access_gate_runs_in_the_main_world_of_every_guarded_page():
    guard, _, main_world = MANIFEST["content_scripts"]
    assert main_world["js"] == ["fsa_main.js"] and main_world["world"] == "MAIN"
    assert main_world["matches"] == guard["matches"]
    assert main_world["run_at"] == "document_start" and main_world["all_frames"] is True
    # its isolated-world end loads after channels.js, whose readFiles it uses
    assert guard["js"].index("fsa_bridge.js") > guard["js"].index("channels.js")
    assert "world" not in guard     # the guard itself stays isolated from page scripts


def test_managed_schema_is_declared_and_valid():
    import jsonschema

    schema = json.loads((EXTENSION_DIR / MANIFEST["storage"]["managed_schema"]).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert {"onAgentUnavailable", "detectUnknownAI", "unknownAIPasteThreshold"} <= set(schema["properties"])
    # Chrome's managed-storage schema cannot $ref the contract: kept equal to it here
    from shadowmap.contract.enums import AGENT_UNAVAILABLE_MODES

    assert tuple(schema["properties"]["onAgentUnavailable"]["enum"]) == AGENT_UNAVAILABLE_MODES


def test_firefox_build(tmp_path):
    manifest_path = build_firefox(tmp_path / "firefox")
    ff = json.loads(manifest_path.read_text())
    assert ff["browser_specific_settings"]["gecko"]["id"] == FIREFOX_ADDON_ID
    assert "key" not in ff and "service_worker" not in ff["background"]
    assert ff["background"] == {"scripts": ["background.js"], "type": "module"}
    assert ff["content_scripts"] == MANIFEST["content_scripts"]
    for name in ff["background"]["scripts"] + [js for cs in ff["content_scripts"] for js in cs["js"]]:
        assert (manifest_path.parent / name).is_file()


def test_every_script_parses_as_javascript():
    for script in EXTENSION_DIR.glob("*.js"):
        done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (script.name, done.stderr)


def test_the_generated_constants_are_current():
    assert CONTRACT_JS.read_text("utf-8") == render(), "run `shadowmap bridge build-extension`"


def test_the_generated_constants_carry_the_contract():
    program = CONTRACT_JS.read_text() + "\nconsole.log(JSON.stringify(globalThis.shadowmapContract));"
    done = subprocess.run(["node", "-e", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    constants = json.loads(done.stdout)
    assert constants["hostName"] == host.HOST_NAME
    assert constants["agentUnavailableDefault"] == host.AGENT_UNAVAILABLE_DEFAULT
    assert constants["limits"]["replyTimeoutMs"] > 1000 * host.AGENT_REPLY_TIMEOUT_S
    # every entity type the detectors report has words; none the detectors dropped lingers
    assert {"AWS_ACCESS_KEY", "EMAIL_ADDRESS", "CREDIT_CARD", "INTERNAL_URL"} <= set(constants["entityWords"])
    assert not {"LOCATION", "STRIPE_KEY", "DATABASE_URL", "GENERIC_SECRET", "INTERNAL_HOSTNAME"} & set(
        constants["entityWords"])
    assert constants["entityWords"]["EMAIL_ADDRESS"] == "email address"


def _words_used(source: str) -> set[str]:
    return set(re.findall(r"\bt\('(\w+)'", source)) | set(re.findall(r"shadowmapText\('(\w+)'", source)) | set(
        re.findall(r"getMessage\('(\w+)'", source)) | set(re.findall(r"__MSG_(\w+)__", source))


def test_user_visible_words_come_from_the_locale():
    assert MANIFEST["default_locale"] == "en"
    messages = json.loads((EXTENSION_DIR / "_locales" / "en" / "messages.json").read_text())
    used = _words_used(MANIFEST_PATH.read_text())
    for script in EXTENSION_DIR.glob("*.js"):
        used |= _words_used(script.read_text())
    content = (EXTENSION_DIR / "content.js").read_text()
    used |= set(re.findall(r"'(channel[A-Z]\w+)'", content)) | set(re.findall(r"'(redacted(?:One|Many))'", content))
    used |= set(re.findall(r"'(blockTitle\w*)'", content)) | {"offlineAllowed", "offlineBlocked"}
    assert used - set(messages) == set(), "messages used but missing from _locales/en/messages.json"
    assert set(messages) - used == set(), "messages in _locales/en/messages.json that nothing uses"
    assert MANIFEST["name"] == "__MSG_extensionName__"


def test_icons_in_every_size_the_stores_ask_for():
    import struct

    assert set(MANIFEST["icons"]) == {"16", "32", "48", "128"}
    for size, path in MANIFEST["icons"].items():
        data = (EXTENSION_DIR / path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (int(size), int(size))


def test_no_error_is_swallowed():
    """Every catch in the extension logs, reports or answers with the error."""
    for script in [*EXTENSION_DIR.glob("*.js")]:
        source = script.read_text()
        for match in re.finditer(r"catch\s*(\((\w*)\))?\s*(=>\s*)?\{?", source):
            body = source[match.end():match.end() + 400]
            assert re.search(r"console\.|report\(|resolve\(\{|settle\(|sendResponse", body), (
                script.name, source[match.start():match.start() + 120])
        assert ".catch(() =>" not in source, script.name
