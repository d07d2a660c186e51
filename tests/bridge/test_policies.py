"""The enterprise policy snippets under packaging/browser/: committed copies equal what
shadowmap.bridge.policies renders, each parses in its own format, names the extension's
real ids and the native host, and carries managed settings the managed_schema accepts."""
from __future__ import annotations

import json
import plistlib

import jsonschema

from shadowmap.bridge.browsers import HOST_NAME
from shadowmap.bridge.build_extension import FIREFOX_ADDON_ID
from shadowmap.bridge.extension_id import EXTENSION_DIR, committed_extension_id
from shadowmap.bridge.policies import CHROMIUM_POLICY_HOMES, OUT_DIR, render

MANAGED_SCHEMA = json.loads((EXTENSION_DIR / "managed_schema.json").read_text())


def test_committed_snippets_are_current():
    for name, data in render().items():
        assert (OUT_DIR / name).read_bytes() == data, f"run python -m shadowmap.bridge.policies ({name})"


def test_chromium_family_snippets_force_install_and_allow_the_host():
    ext_id = committed_extension_id()
    for browser, (_linux, win_key, _domain) in CHROMIUM_POLICY_HOMES.items():
        policy = json.loads((OUT_DIR / browser / "linux-managed-policy.json").read_text())
        assert policy["ExtensionInstallForcelist"][0].startswith(f"{ext_id};https://")
        assert policy["ExtensionSettings"][ext_id]["installation_mode"] == "force_installed"
        assert policy["NativeMessagingAllowlist"] == [HOST_NAME]
        jsonschema.validate(policy["3rdparty"]["extensions"][ext_id], MANAGED_SCHEMA)

        plist = plistlib.loads((OUT_DIR / browser / "macos-policy.plist").read_bytes())
        assert plist["NativeMessagingAllowlist"] == [HOST_NAME] and ext_id in plist["ExtensionSettings"]

        reg = (OUT_DIR / browser / "windows-policy.reg").read_bytes().decode()
        assert reg.startswith("Windows Registry Editor Version 5.00\r\n")
        assert f"[HKEY_LOCAL_MACHINE\\{win_key}\\NativeMessagingAllowlist]\r\n\"1\"=\"{HOST_NAME}\"" in reg
        assert f"\\3rdparty\\extensions\\{ext_id}\\policy]" in reg


def test_firefox_policies_use_the_add_on_id():
    policies = json.loads((OUT_DIR / "firefox" / "policies.json").read_text())["policies"]
    assert policies["ExtensionSettings"][FIREFOX_ADDON_ID]["installation_mode"] == "force_installed"
    jsonschema.validate(policies["3rdparty"]["Extensions"][FIREFOX_ADDON_ID], MANAGED_SCHEMA)
