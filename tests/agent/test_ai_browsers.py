"""AI browsers laid out as they are on a Mac and on Windows (their user-data folders, profiles,
"Last Version"), found per user with whether the shadowmap extension is in each profile; the
events they make are ones the collector accepts."""
from __future__ import annotations

import json
import uuid

import yaml

from shadowmap import contract
from shadowmap.agent.discovery import ai_browsers
from shadowmap.contract.host import CHROMIUM_EXTENSION_ID


def chromium_profile(folder, with_extension: bool, disabled: bool = False) -> None:
    folder.mkdir(parents=True)
    settings = {}
    if with_extension:
        (folder / "Extensions" / CHROMIUM_EXTENSION_ID / "1.0_0").mkdir(parents=True)
        if disabled:
            settings[CHROMIUM_EXTENSION_ID] = {"state": 0}
    (folder / "Preferences").write_text(json.dumps({"extensions": {"settings": settings}}))


def test_ai_browsers_on_a_mac_with_and_without_the_extension(tmp_path):
    home = tmp_path / "Users" / "dana"
    comet = home / "Library/Application Support/Comet"
    chromium_profile(comet / "Default", with_extension=True)
    chromium_profile(comet / "Profile 1", with_extension=False)
    (comet / "Last Version").write_text("139.0.7258.139\n")
    atlas = home / "Library/Application Support/com.openai.atlas/browser-data/host"
    chromium_profile(atlas / "user-abc__profile", with_extension=True, disabled=True)
    (home / "Library/Application Support/Dia").mkdir(parents=True)          # installed, never started: no profile

    found = {o.data["browser_id"]: o for o in ai_browsers.scan([("dana", home)], {CHROMIUM_EXTENSION_ID}, "darwin")}
    assert set(found) == {"comet", "chatgpt-atlas"}
    comet_data = found["comet"].data
    assert (comet_data["tool_id"], comet_data["version"]) == ("perplexity", "139.0.7258.139")
    assert comet_data["profiles"] == [{"profile": "Default", "extension": "enabled"},
                                      {"profile": "Profile 1", "extension": "missing"}]
    assert found["chatgpt-atlas"].data["profiles"] == [{"profile": "user-abc__profile", "extension": "disabled"}]
    for observation in found.values():
        contract.validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": observation.event_type,
                                 "device_id": "d1", "user": "dana", "ts": "2026-12-06T10:00:00Z",
                                 "data": observation.data})


def test_comet_on_windows_and_nothing_on_linux(tmp_path):
    home = tmp_path / "Users" / "dana"
    chromium_profile(home / "AppData/Local/Perplexity/Comet/User Data/Default", with_extension=False)
    [seen] = ai_browsers.scan([("dana", home)], {CHROMIUM_EXTENSION_ID}, "win32")
    assert seen.data["profiles"] == [{"profile": "Default", "extension": "missing"}]
    assert ai_browsers.scan([("dana", home)], {CHROMIUM_EXTENSION_ID}, "linux") == []


def test_every_ai_browser_fact_names_its_source():
    for browser in ai_browsers.browsers():
        assert browser["sources"] and browser["user_data"], browser["id"]


def test_genspark_browser_on_a_mac_and_on_windows(tmp_path):
    mac = tmp_path / "Users" / "dana"
    genspark = mac / "Library/Application Support/GensparkSoftware/Genspark-Browser"
    chromium_profile(genspark / "Default", with_extension=False)
    chromium_profile(genspark / "Profile 2", with_extension=True)
    [seen] = ai_browsers.scan([("dana", mac)], {CHROMIUM_EXTENSION_ID}, "darwin")
    assert (seen.data["browser_id"], seen.data["tool_id"]) == ("genspark-browser", "genspark")
    assert seen.data["profiles"] == [{"profile": "Default", "extension": "missing"},
                                     {"profile": "Profile 2", "extension": "enabled"}]

    windows = tmp_path / "Users" / "omar"
    chromium_profile(windows / "AppData/Local/GensparkSoftware/Genspark-Browser/User Data/Default",
                     with_extension=True, disabled=True)
    [seen] = ai_browsers.scan([("omar", windows)], {CHROMIUM_EXTENSION_ID}, "win32")
    assert seen.data["browser_id"] == "genspark-browser"
    assert seen.data["profiles"] == [{"profile": "Default", "extension": "disabled"}]


def test_every_ai_browser_of_issue_20_is_detected_or_says_why_not():
    """Comet, Dia, Atlas, Opera Neon, Genspark's browser and Edge's Copilot Mode: each is scanned
    for, or listed as not detected with what was searched (no guessed install facts)."""
    data = yaml.safe_load(ai_browsers.FACTS_FILE.read_text("utf-8"))
    scanned = {browser["id"] for browser in data["browsers"]}
    explained = {entry["id"]: entry["reason"] for entry in data.get("not_detected", [])}
    assert not scanned & set(explained)
    assert {"comet", "dia", "chatgpt-atlas", "opera-neon", "genspark-browser"} <= scanned
    assert set(explained) == {"edge-copilot-mode"}
    assert all(len(reason) > 200 for reason in explained.values())


def chromium_user_data(folder, version: str) -> None:
    """What Chromium keeps at the top of a user-data folder beside the profiles: Local State
    (the profiles' list), Last Version, and the profile picker's and guest mode's profiles."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Local State").write_text(json.dumps({"profile": {"info_cache": {"Default": {}, "Profile 1": {}}}}))
    (folder / "Last Version").write_text(version + "\n")
    for not_a_users in ("System Profile", "Guest Profile"):
        chromium_profile(folder / not_a_users, with_extension=False)
    (folder / "Crashpad").mkdir()


def valid(observation) -> dict:
    contract.validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": observation.event_type,
                             "device_id": "d1", "user": "dana", "ts": "2026-12-06T10:00:00Z", "data": observation.data})
    return observation.data


def test_dia_on_a_mac_with_its_profiles(tmp_path):
    """Dia (macOS only) keeps Chromium's layout under Application Support/Dia/User Data: each
    user profile is reported with the extension's state; the System and Guest profiles are not
    a user's and raise nothing."""
    home = tmp_path / "Users" / "dana"
    user_data = home / "Library/Application Support/Dia/User Data"
    chromium_profile(user_data / "Default", with_extension=True)
    chromium_profile(user_data / "Profile 1", with_extension=False)
    chromium_user_data(user_data, "1.9.0")
    [seen] = ai_browsers.scan([("dana", home)], {CHROMIUM_EXTENSION_ID}, "darwin")
    data = valid(seen)
    assert (data["browser_id"], data["name"], data["tool_id"], data["version"]) == ("dia", "Dia", None, "1.9.0")
    assert data["profiles"] == [{"profile": "Default", "extension": "enabled"},
                                {"profile": "Profile 1", "extension": "missing"}]
    assert ai_browsers.scan([("dana", home)], {CHROMIUM_EXTENSION_ID}, "win32") == []   # no Windows Dia


def opera_profile(folder, with_extension: bool, disabled: bool = False, version: str = "") -> None:
    """Opera's layout: the user-data folder is the profile (Preferences, Extensions at its top)."""
    chromium_profile(folder, with_extension, disabled)
    (folder / "Local State").write_text(json.dumps({"profile": {"info_cache": {}}}))
    if version:
        (folder / "Last Version").write_text(version + "\n")


def test_opera_neon_whose_user_data_folder_is_its_profile(tmp_path):
    mac = tmp_path / "Users" / "dana"
    opera_profile(mac / "Library/Application Support/com.operasoftware.OperaNeon", with_extension=True,
                  version="127.0.5778.18")
    [seen] = ai_browsers.scan([("dana", mac)], {CHROMIUM_EXTENSION_ID}, "darwin")
    data = valid(seen)
    assert (data["browser_id"], data["name"], data["tool_id"]) == ("opera-neon", "Opera Neon", None)
    assert data["version"] == "127.0.5778.18"
    assert data["profiles"] == [{"profile": "com.operasoftware.OperaNeon", "extension": "enabled"}]

    windows = tmp_path / "Users" / "omar"
    opera_profile(windows / "AppData/Roaming/Opera Software/Opera Neon", with_extension=True, disabled=True)
    [seen] = ai_browsers.scan([("omar", windows)], {CHROMIUM_EXTENSION_ID}, "win32")
    assert valid(seen)["profiles"] == [{"profile": "Opera Neon", "extension": "disabled"}]

    without = tmp_path / "Users" / "lee"
    opera_profile(without / "AppData/Roaming/Opera Software/Opera Neon", with_extension=False)
    [seen] = ai_browsers.scan([("lee", without)], {CHROMIUM_EXTENSION_ID}, "win32")
    assert seen.data["profiles"] == [{"profile": "Opera Neon", "extension": "missing"}]


def test_the_system_and_guest_profiles_are_no_users_in_chrome_either(tmp_path):
    """The heartbeat's extension states for a force-installed Chrome skip them too: a missing
    extension there is not a "Protection disabled"."""
    from shadowmap.agent.discovery import protection
    root, home = tmp_path / "root", tmp_path / "home" / "dana"
    policy = root / "etc/opt/chrome/policies/managed"
    policy.mkdir(parents=True)
    (policy / "shadowmap.json").write_text(json.dumps({"ExtensionInstallForcelist": [CHROMIUM_EXTENSION_ID]}))
    chrome = home / ".config/google-chrome"
    chromium_profile(chrome / "Default", with_extension=True)
    chromium_user_data(chrome, "139.0.7258.154")
    states = protection.extension_states([("dana", home)], "linux", policy_root=root)
    assert states == [{"browser": "chrome", "profile": "Default", "profile_user": "dana", "state": "enabled"}]
