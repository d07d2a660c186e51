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
