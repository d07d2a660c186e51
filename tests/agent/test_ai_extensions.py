"""AI browser extensions known by their store ids (the catalog's browser_extension_ids, each
from its Chrome Web Store listing): found in a profile even when their permissions name no
catalog host, and attributed to their tool."""
from __future__ import annotations

import json

import pytest

from shadowmap.agent.discovery.extensions import ExtensionInventory

STORE_IDS = {"monica": "ofpnmcalabcbjgholdjcjblkibolbppb", "merlin": "camppjleccjaphfdbohjdohecfnoikec",
             "sider": "difoiogjjojoaoomphldepapgpbgkhkb", "maxai": "mhnlakgilnojmhinhkckjpncpbhabphi",
             "harpa": "eanggfilgoajaocelnaflolkadkeghjp"}


@pytest.mark.parametrize(("tool_id", "ext_id"), sorted(STORE_IDS.items()))
def test_a_sidebar_assistant_is_known_by_its_store_id(tmp_path, catalog, tool_id, ext_id):
    home = tmp_path / "home"
    version = home / ".config" / "google-chrome" / "Default" / "Extensions" / ext_id / "1.0_0"
    version.mkdir(parents=True)
    # a sidebar that asks for no host permission at install: only its id tells what it is
    (version / "manifest.json").write_text(json.dumps({"name": "Assistant", "version": "1.0", "manifest_version": 3,
                                                       "permissions": ["sidePanel", "storage"]}))
    (home / ".config" / "google-chrome" / "Default" / "Preferences").write_text("{}")
    [seen] = ExtensionInventory(catalog, "linux").scan([("dana", home)])
    assert (seen.data["tool_id"], seen.data["extension_id"], seen.data["enabled"]) == (tool_id, ext_id, True)


def test_an_unknown_extension_without_ai_hosts_is_not_reported(tmp_path, catalog):
    home = tmp_path / "home"
    version = home / ".config" / "google-chrome" / "Default" / "Extensions" / ("a" * 32) / "1.0_0"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(json.dumps({"name": "Notes", "version": "1.0", "permissions": ["storage"]}))
    assert ExtensionInventory(catalog, "linux").scan([("dana", home)]) == []


@pytest.mark.parametrize(("location", "flagged"), [(1, False), (7, False), (9, False), (4, True), (8, True),
                                                   (2, True), (3, True), (6, True), (5, False)])
def test_a_sideloaded_ai_extension_is_flagged_with_how(tmp_path, catalog, location, flagged):
    home = tmp_path / "home"
    ext_id = STORE_IDS["sider"]
    version = home / ".config" / "chromium" / "Default" / "Extensions" / ext_id / "1.0_0"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(json.dumps({"name": "Sider", "version": "1.0", "permissions": []}))
    (home / ".config" / "chromium" / "Default" / "Preferences").write_text(json.dumps(
        {"extensions": {"settings": {ext_id: {"location": location, "state": 1}}}}))
    [seen] = ExtensionInventory(catalog, "linux").scan([("dana", home)])
    flags = [r["flag"] for r in seen.data.get("risks", ())]
    assert flags == (["sideloaded_extension"] if flagged else [])
    if flagged:
        assert seen.data["risks"][0]["evidence"].startswith("not from a store or policy")


def test_our_own_extension_loaded_unpacked_is_not_flagged(tmp_path, catalog):
    from shadowmap.contract.host import CHROMIUM_EXTENSION_ID

    home = tmp_path / "home"
    version = home / ".config" / "chromium" / "Default" / "Extensions" / CHROMIUM_EXTENSION_ID / "1.0_0"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(json.dumps({"name": "shadowmap", "version": "1.0",
                                                       "host_permissions": ["https://chatgpt.com/*"]}))
    (home / ".config" / "chromium" / "Default" / "Preferences").write_text(json.dumps(
        {"extensions": {"settings": {CHROMIUM_EXTENSION_ID: {"location": 8}}}}))
    [seen] = ExtensionInventory(catalog, "linux").scan([("dana", home)])
    assert "risks" not in seen.data


def firefox_addon(addon_id: str, name: str, *, location: str = "app-profile", signed_state: int | None = 2,
                  foreign: bool = False, source: str = "amo", origins: tuple[str, ...] = ("https://chatgpt.com/*",),
                  profile_path: str = "/home/dana/.mozilla/firefox/x1y2.default-release") -> dict:
    """An entry of a profile's extensions.json as Firefox writes it (XPIDatabase's fields)."""
    entry = {
        "id": addon_id, "syncGUID": "{4b9c1e0a-77d1-4d8e-9a51-3c1f0e2d7b11}", "version": "2.4.1", "type": "extension",
        "loader": None, "updateURL": None, "installOrigins": None, "manifestVersion": 3, "optionsURL": None,
        "defaultLocale": {"name": name, "creator": None}, "visible": True, "active": True, "userDisabled": False,
        "appDisabled": False, "embedderDisabled": False, "installDate": 1764950400000, "updateDate": 1764950400000,
        "applyBackgroundUpdates": 1, "path": f"{profile_path}/extensions/{addon_id}.xpi", "skinnable": False,
        "sourceURI": f"https://addons.mozilla.org/firefox/downloads/file/4412345/{addon_id}.xpi",
        "releaseNotesURI": None, "softDisabled": False, "foreignInstall": foreign, "strictCompatibility": True,
        "locales": [], "targetApplications": [{"id": "toolkit@mozilla.org", "minVersion": "115.0", "maxVersion": None}],
        "targetPlatforms": [], "signedDate": 1764950000000, "seen": True, "dependencies": [], "incognito": "spanning",
        "userPermissions": {"permissions": ["storage", "tabs"], "origins": list(origins), "data_collection": []},
        "optionalPermissions": {"permissions": [], "origins": [], "data_collection": []},
        "icons": {}, "iconURL": None, "blocklistState": 0, "blocklistURL": None, "startupData": None,
        "hidden": False, "installTelemetryInfo": {"source": source, "method": "amWebAPI"},
        "recommendationState": None, "rootURI": f"jar:file://{profile_path}/extensions/{addon_id}.xpi!/",
        "location": location,
    }
    if signed_state is not None:
        entry["signedState"] = signed_state
    return entry


def firefox_home(tmp_path, addons: list[dict]):
    home = tmp_path / "home" / "dana"
    profile = home / ".mozilla" / "firefox" / "x1y2.default-release"
    profile.mkdir(parents=True)
    (profile / "extensions.json").write_text(json.dumps({"schemaVersion": 36, "addons": addons}))
    return home


@pytest.mark.parametrize(("addon", "evidence"), [
    (firefox_addon("chat-helper@example.org", "Chat helper"), None),                      # from AMO, signed
    (firefox_addon("chat-helper@example.org", "Chat helper", source="enterprise-policy"), None),
    (firefox_addon("chat-helper@example.org", "Chat helper", foreign=True, source="unknown"),
     "installed by another program (foreignInstall)"),
    (firefox_addon("chat-helper@example.org", "Chat helper", location="app-temporary", signed_state=0,
                   source="temporary-addon"), "loaded temporarily (about:debugging)"),
    (firefox_addon("chat-helper@example.org", "Chat helper", signed_state=0, source="file-url"),
     "not signed by Mozilla (signedState 0)"),
    (firefox_addon("chat-helper@example.org", "Chat helper", signed_state=-2), "its signature is broken (signedState -2)"),
    (firefox_addon("chat-helper@example.org", "Chat helper", signed_state=None), None),  # signing not required
    (firefox_addon("chat-helper@example.org", "Chat helper", location="app-system-share", signed_state=None,
                   source="sideload"), "put in a system add-on folder by another program"),
    (firefox_addon("chat-helper@example.org", "Chat helper", location="app-system-user", signed_state=0,
                   foreign=True, source="sideload"),
     "put in the user's add-on folder (~/.mozilla/extensions) by another program; not signed by Mozilla (signedState 0)"),
])
def test_a_firefox_ai_add_on_not_from_amo_or_policy_is_flagged(tmp_path, catalog, addon, evidence):
    home = firefox_home(tmp_path, [addon])
    [seen] = ExtensionInventory(catalog, "linux").scan([("dana", home)])
    assert (seen.data["browser"], seen.data["ai_hosts"], seen.data["name"]) == ("firefox", ["chatgpt.com"], "Chat helper")
    if evidence is None:
        assert "risks" not in seen.data
    else:
        assert seen.data["risks"] == [{"flag": "sideloaded_extension", "evidence": f"not from a store or policy: {evidence}"}]


def test_unsigned_system_share_add_ons_are_unusual_only_on_a_mac(tmp_path, catalog):
    """Firefox needs no signature in /usr/{lib,share}/mozilla/extensions outside macOS
    (isCorrectlySigned): there only the location is reported, on a Mac the missing signature too."""
    addon = firefox_addon("chat-helper@example.org", "Chat helper", location="app-system-share", signed_state=0)
    home = firefox_home(tmp_path, [addon])
    [linux] = ExtensionInventory(catalog, "linux").scan([("dana", home)])
    assert linux.data["risks"][0]["evidence"].endswith("by another program")
    mac = tmp_path / "mac" / "Users" / "dana"
    profile = mac / "Library/Application Support/Firefox/Profiles/ab12.default-release"
    profile.mkdir(parents=True)
    (profile / "extensions.json").write_text(json.dumps({"schemaVersion": 36, "addons": [addon]}))
    [darwin] = ExtensionInventory(catalog, "darwin").scan([("dana", mac)])
    assert darwin.data["risks"][0]["evidence"].endswith("not signed by Mozilla (signedState 0)")


def test_our_own_firefox_add_on_and_non_ai_add_ons_raise_nothing(tmp_path, catalog):
    from shadowmap.contract.host import FIREFOX_ADDON_ID

    home = firefox_home(tmp_path, [
        firefox_addon(FIREFOX_ADDON_ID, "shadowmap", signed_state=0, foreign=True, source="enterprise-policy"),
        firefox_addon("notes@example.org", "Notes", signed_state=0, foreign=True, origins=("https://example.org/*",)),
    ])
    [ours] = ExtensionInventory(catalog, "linux").scan([("dana", home)])       # the unsigned notes add-on reaches no AI host
    assert ours.data["extension_id"] == FIREFOX_ADDON_ID and "risks" not in ours.data
