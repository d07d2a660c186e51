"""The extension's state in each profile of each browser whose enterprise policy force-installs
it, as the agent's heartbeat reports it (Linux policy folders and Chromium profiles laid out like
the real ones), and `shadowmap agent retire` telling a real collector of a planned stop."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from support.processes import REPO

from shadowmap.agent.discovery import protection
from shadowmap.agent.enroll import enroll, read_secret
from shadowmap.contract.host import CHROMIUM_EXTENSION_ID, LINUX_POLICY_DIRS, MANAGED_STORAGE_DEFAULTS

SELF_HOSTED = "ekbfnhppnmahcflejfmgnfbgodombeep"
OTHER = "aapocclcgogkmnckokdopfmhonfmgoek"       # some other force-installed extension


def policy(root: Path, browser: str, doc: dict, name: str = "shadowmap.json") -> None:
    folder = root / LINUX_POLICY_DIRS[browser].lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(doc))


def profile(home: Path, rel: str, name: str, installed: dict[str, int | None]) -> None:
    """A profile holding extensions: id -> Preferences state (1 enabled, 0 disabled, None absent)."""
    folder = home / rel / name
    settings = {}
    for ext_id, state in installed.items():
        version = folder / "Extensions" / ext_id / "1.0_0"
        version.mkdir(parents=True)
        (version / "manifest.json").write_text(json.dumps({"name": "x", "version": "1.0"}))
        if state is not None:
            settings[ext_id] = {"state": state}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Preferences").write_text(json.dumps({"extensions": {"settings": settings}}))


def test_each_force_installed_profile_reports_enabled_disabled_or_missing(tmp_path):
    root, home = tmp_path / "root", tmp_path / "home" / "dana"
    policy(root, "chrome", {"ExtensionInstallForcelist": [f"{CHROMIUM_EXTENSION_ID};https://x/u.xml",
                                                          f"{OTHER};https://clients2.google.com/service/update2/crx"]})
    policy(root, "edge", {"ExtensionSettings": {SELF_HOSTED: {"installation_mode": "force_installed",
                                                              "update_url": "https://c/extension/chromium/updates.xml"}},
                          "3rdparty": {"extensions": {SELF_HOSTED: dict(MANAGED_STORAGE_DEFAULTS)}}})
    policy(root, "brave", {"ExtensionInstallForcelist": [f"{OTHER};https://x/u.xml"]})     # not ours: ignored
    profile(home, ".config/google-chrome", "Default", {CHROMIUM_EXTENSION_ID: 1, OTHER: 1})
    profile(home, ".config/google-chrome", "Profile 1", {CHROMIUM_EXTENSION_ID: 0})
    profile(home, ".config/google-chrome", "Profile 2", {OTHER: None})
    profile(home, ".config/microsoft-edge", "Default", {SELF_HOSTED: None})
    profile(home, ".config/BraveSoftware/Brave-Browser", "Default", {})
    profile(home, ".config/chromium", "Default", {})                   # no policy for Chromium: not asked

    states = protection.extension_states([("dana", home)], "linux", root)
    assert sorted((s["browser"], s["profile"], s["state"]) for s in states) == [
        ("chrome", "Default", "enabled"), ("chrome", "Profile 1", "disabled"), ("chrome", "Profile 2", "missing"),
        ("edge", "Default", "enabled")]
    assert {s["profile_user"] for s in states} == {"dana"}


def test_no_policy_means_nothing_to_report(tmp_path):
    home = tmp_path / "home"
    profile(home, ".config/google-chrome", "Default", {})
    assert protection.extension_states([("dana", home)], "linux", tmp_path / "empty-root") == []


def test_agent_retire_tells_a_real_collector(tmp_path, collector):
    db, url, secret_file = collector
    state = tmp_path / "state"
    enroll(url, read_secret(secret_file), state)
    done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "agent", "retire", "--reason", "uninstall",
                           "--state-dir", str(state)], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHADOWMAP_COLLECTOR_URL": url})
    assert done.returncode == 0, done.stderr
    assert "knows this device is retiring" in done.stdout
    conn = sqlite3.connect(db, timeout=10)
    try:
        [(reason,)] = conn.execute("SELECT retired_reason FROM device_watch").fetchall()
    finally:
        conn.close()
    assert reason == "uninstall"


def test_the_daemons_heartbeat_carries_the_states_with_discovery_on(tmp_path, engine, catalog, summarize):
    from shadowmap.agent.config import load_config
    from shadowmap.agent.daemon import AgentDaemon

    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "run" / "agent.sock",
                         mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""}, heartbeat_interval=3600,
                         process_interval=3600, network_interval=3600, extension_interval=3600,
                         config_rescan_interval=3600)
    daemon = AgentDaemon(config, engine, catalog, summarize, homes=[("dana", tmp_path / "home")],
                         resolver=lambda h: [])
    beat = daemon.heartbeat()                       # discovery on: the states come from its homes
    assert beat["type"] == "agent.heartbeat"
    assert beat["data"].get("extensions", []) == protection.extension_states([("dana", tmp_path / "home")])
