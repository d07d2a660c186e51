"""Chromium-family browser policies from the Windows registry, as data: the keys laid out the way
Group Policy writes them (ExtensionInstallForcelist as a subkey of numbered REG_SZ values,
ExtensionSettings as one REG_SZ of JSON, managed storage under 3rdparty\\extensions\\<id>\\policy)
become the same documents the Linux policy files hold, so the extension's state is reported per
profile on Windows too. The winreg walk itself (winpolicy.read_tree) cannot run here: it is
verified by reading only; on this platform it returns None."""
from __future__ import annotations

import json
from pathlib import Path

from shadowmap.agent.discovery import protection, winpolicy
from shadowmap.contract.host import CHROMIUM_EXTENSION_ID, MANAGED_STORAGE_DEFAULTS, WINDOWS_POLICY_KEYS

SELF_HOSTED = "ekbfnhppnmahcflejfmgnfbgodombeep"
OTHER = "aapocclcgogkmnckokdopfmhonfmgoek"


def key(values: dict | None = None, **subkeys: dict) -> dict:
    return {"values": values or {}, "keys": subkeys}


REGISTRY = {
    # Chrome: the contract's id among other force-installed ones, numbered past 9
    WINDOWS_POLICY_KEYS["chrome"]: key(
        {"BrowserSignin": 1},
        ExtensionInstallForcelist=key({"2": f"{OTHER};https://clients2.google.com/service/update2/crx",
                                       "10": f"{CHROMIUM_EXTENSION_ID};https://collector.acme.example/u.xml"})),
    # Edge: a self-hosted build forced through ExtensionSettings, recognised by its managed storage
    WINDOWS_POLICY_KEYS["edge"]: key(
        {"ExtensionSettings": json.dumps({SELF_HOSTED: {"installation_mode": "force_installed",
                                                        "update_url": "https://c/extension/chromium/updates.xml"},
                                          "*": {"installation_mode": "allowed"}})},
        **{"3rdparty": key(extensions=key(**{SELF_HOSTED: key(policy=key(
            {"onAgentUnavailable": "fail_open", "detectUnknownAI": 1}))}))}),
    # Brave: force-installs some other extension, and ours only as normal_installed: not ours to report
    WINDOWS_POLICY_KEYS["brave"]: key(
        {"ExtensionSettings": json.dumps({SELF_HOSTED: {"installation_mode": "normal_installed"}})},
        ExtensionInstallForcelist=key({"1": f"{OTHER};https://x/u.xml"}),
        **{"3rdparty": key(extensions=key(**{SELF_HOSTED: key(policy=key(dict(MANAGED_STORAGE_DEFAULTS)))}))}),
    # Chromium: no policy key at all
}


def read(path: str) -> dict | None:
    return REGISTRY.get(path)


def profile(home: Path, rel: str, name: str, installed: dict[str, int | None]) -> None:
    folder = home / rel / name
    settings = {}
    for ext_id, state in installed.items():
        (folder / "Extensions" / ext_id / "1.0_0").mkdir(parents=True)
        if state is not None:
            settings[ext_id] = {"state": state}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Preferences").write_text(json.dumps({"extensions": {"settings": settings}}))


def test_a_registry_key_becomes_the_policy_document():
    doc = winpolicy.policy_document(REGISTRY[WINDOWS_POLICY_KEYS["chrome"]])
    assert doc == {"BrowserSignin": 1, "ExtensionInstallForcelist": [
        f"{OTHER};https://clients2.google.com/service/update2/crx",
        f"{CHROMIUM_EXTENSION_ID};https://collector.acme.example/u.xml"]}     # "2" before "10"
    edge = winpolicy.policy_document(REGISTRY[WINDOWS_POLICY_KEYS["edge"]])
    assert edge["ExtensionSettings"][SELF_HOSTED]["installation_mode"] == "force_installed"
    assert edge["3rdparty"] == {"extensions": {SELF_HOSTED: {"onAgentUnavailable": "fail_open", "detectUnknownAI": 1}}}
    # bad JSON stays text (and so forces nothing); a non-numbered value in a list key is no entry
    odd = winpolicy.policy_document(key({"ExtensionSettings": "{not json"},
                                        ExtensionInstallForcelist=key({"x": "id;u", "3": "abc;u"})))
    assert odd == {"ExtensionSettings": "{not json", "ExtensionInstallForcelist": ["abc;u"]}
    assert protection.our_ids(odd) == set()
    assert winpolicy.policy_document(None) == {}


def test_windows_policies_name_which_browsers_must_run_the_extension():
    assert protection.managed_ids("win32", read_registry=read) == {
        "chrome": {CHROMIUM_EXTENSION_ID}, "edge": {SELF_HOSTED}}
    # the same registry means nothing on another platform, and winreg is not read off Windows
    assert protection.managed_ids("linux", Path("/nonexistent"), read_registry=read) == {}
    assert winpolicy.read_tree(WINDOWS_POLICY_KEYS["chrome"]) is None


def test_each_windows_profile_reports_the_extensions_state(tmp_path):
    home = tmp_path / "Users" / "dana"
    profile(home, "AppData/Local/Google/Chrome/User Data", "Default", {CHROMIUM_EXTENSION_ID: 1})
    profile(home, "AppData/Local/Google/Chrome/User Data", "Profile 1", {CHROMIUM_EXTENSION_ID: 0})
    profile(home, "AppData/Local/Microsoft/Edge/User Data", "Default", {})
    profile(home, "AppData/Local/BraveSoftware/Brave-Browser/User Data", "Default", {})
    profile(home, ".config/google-chrome", "Default", {})        # a Linux layout is no Windows profile
    states = protection.extension_states([("dana", home)], "win32", read_registry=read)
    assert sorted((s["browser"], s["profile"], s["state"]) for s in states) == [
        ("chrome", "Default", "enabled"), ("chrome", "Profile 1", "disabled"), ("edge", "Default", "missing")]
