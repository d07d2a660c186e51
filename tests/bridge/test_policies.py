"""The enterprise policy snippets shadowmap.bridge.policies renders on demand: each parses
in its own format, names the extension's real ids, the native host and each browser's
policy key from the contract, and carries managed settings the managed_schema accepts."""
from __future__ import annotations

import json
import plistlib

import jsonschema

from shadowmap.bridge.extension_id import EXTENSION_DIR, committed_extension_id
from shadowmap.bridge.policies import main, render
from shadowmap.contract.host import CHROMIUM_FAMILY, FIREFOX_ADDON_ID, HOST_NAME, WINDOWS_POLICY_KEYS

MANAGED_SCHEMA = json.loads((EXTENSION_DIR / "managed_schema.json").read_text())


def test_the_command_writes_every_snippet(tmp_path):
    assert main([str(tmp_path)]) == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(render())
    assert len(written) == 3 * len(CHROMIUM_FAMILY) + 1


def test_chromium_family_snippets_force_install_and_allow_the_host():
    ext_id = committed_extension_id()
    files = render()
    for browser in CHROMIUM_FAMILY:
        policy = json.loads(files[f"{browser}/linux-managed-policy.json"])
        assert policy["ExtensionInstallForcelist"][0].startswith(f"{ext_id};https://")
        assert policy["ExtensionSettings"][ext_id]["installation_mode"] == "force_installed"
        assert policy["NativeMessagingAllowlist"] == [HOST_NAME]
        jsonschema.validate(policy["3rdparty"]["extensions"][ext_id], MANAGED_SCHEMA)

        plist = plistlib.loads(files[f"{browser}/macos-policy.plist"])
        assert plist["NativeMessagingAllowlist"] == [HOST_NAME] and ext_id in plist["ExtensionSettings"]

        reg = files[f"{browser}/windows-policy.reg"].decode()
        assert reg.startswith("Windows Registry Editor Version 5.00\r\n")
        win_key = WINDOWS_POLICY_KEYS[browser]
        assert f"[HKEY_LOCAL_MACHINE\\{win_key}\\NativeMessagingAllowlist]\r\n\"1\"=\"{HOST_NAME}\"" in reg
        assert f"\\3rdparty\\extensions\\{ext_id}\\policy]" in reg


def test_firefox_policies_use_the_add_on_id():
    policies = json.loads(render()["firefox/policies.json"])["policies"]
    assert policies["ExtensionSettings"][FIREFOX_ADDON_ID]["installation_mode"] == "force_installed"
    jsonschema.validate(policies["3rdparty"]["Extensions"][FIREFOX_ADDON_ID], MANAGED_SCHEMA)
