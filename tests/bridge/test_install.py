"""`shadowmap bridge install`: the host manifest lands where the browser looks, and its
`path` is an absolute, executable launcher that really starts the host."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest

from shadowmap.bridge.browsers import BROWSERS, PLATFORMS, SCOPES, current_platform, manifest_location, registry_file
from shadowmap.bridge.build_extension import FIREFOX_ADDON_ID
from shadowmap.bridge.extension_id import committed_extension_id
from shadowmap.bridge.install import HOST_NAME, manifest_dir
from shadowmap.ipc import framing

REPO = Path(__file__).resolve().parents[2]


def bridge_cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "shadowmap.cli", "bridge", "install", *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60)


def test_install_into_a_profile_writes_manifest_and_launcher(tmp_path, short_dir):
    udd = tmp_path / "profile"
    sock = short_dir / "agent.sock"
    done = bridge_cli("--browser", "chromium", "--user-data-dir", str(udd), "--socket", str(sock),
                      "--launcher-dir", str(tmp_path / "bin"), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    manifest_path = udd / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    assert str(manifest_path) in done.stdout
    manifest = json.loads(manifest_path.read_text())
    assert manifest == {
        "name": "com.shadowmap.bridge",
        "description": manifest["description"],
        "path": str(tmp_path / "bin" / "shadowmap-bridge-host"),
        "type": "stdio",
        "allowed_origins": [f"chrome-extension://{committed_extension_id()}/"],
    }
    launcher = Path(manifest["path"])
    assert launcher.is_absolute() and os.access(launcher, os.X_OK)
    assert launcher.read_text().startswith("#!/bin/sh\n")
    assert stat.S_IMODE(manifest_path.stat().st_mode) == 0o644
    # the launcher really starts the host, pointed at the given socket (nobody listens there)
    ping = framing.encode({"type": "ping", "id": 1})
    out = subprocess.run([str(launcher), f"chrome-extension://{committed_extension_id()}/"], input=ping,
                         capture_output=True, timeout=30, cwd="/")
    reply = framing.decode_body(out.stdout[framing.HEADER.size:])
    assert (reply["id"], reply["error"]) == (1, "agent_unavailable")
    assert str(sock) in reply["detail"]


def test_default_user_locations_follow_the_browser(tmp_path):
    home = tmp_path / "home"
    for browser, folder in (("chromium", ".config/chromium"), ("chrome", ".config/google-chrome")):
        done = bridge_cli("--browser", browser, "--extension-id", "a" * 32, home=home)
        assert done.returncode == 0, done.stderr
        manifest = json.loads((home / folder / "NativeMessagingHosts" / f"{HOST_NAME}.json").read_text())
        assert manifest["allowed_origins"] == [f"chrome-extension://{'a' * 32}/"]
        # without --launcher-dir the launcher sits beside the agent's per-user state
        assert manifest["path"] == str(home / ".local/state/shadowmap/bridge/shadowmap-bridge-host")


def test_system_locations_are_the_documented_ones():
    assert manifest_dir("chromium", "system") == Path("/etc/chromium/native-messaging-hosts")
    assert manifest_dir("chrome", "system") == Path("/etc/opt/chrome/native-messaging-hosts")


def test_bad_extension_id_is_a_clear_error(tmp_path):
    done = bridge_cli("--user-data-dir", str(tmp_path / "p"), "--extension-id", "not-an-id", home=tmp_path)
    assert done.returncode != 0
    assert "not a Chromium extension id" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "p" / "NativeMessagingHosts").exists()


def test_firefox_gets_allowed_extensions_in_its_own_folder(tmp_path):
    home = tmp_path / "home"
    done = bridge_cli("--browser", "firefox", home=home)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((home / ".mozilla/native-messaging-hosts" / f"{HOST_NAME}.json").read_text())
    assert manifest["allowed_extensions"] == [FIREFOX_ADDON_ID] and "allowed_origins" not in manifest
    refused = bridge_cli("--browser", "firefox", "--extension-id", "a" * 32, home=home)
    assert refused.returncode != 0 and "not a Firefox add-on id" in refused.stderr


def test_edge_and_brave_user_folders(tmp_path):
    home = tmp_path / "home"
    for browser, folder in (("edge", ".config/microsoft-edge"), ("brave", ".config/BraveSoftware/Brave-Browser")):
        assert bridge_cli("--browser", browser, home=home).returncode == 0
        assert (home / folder / "NativeMessagingHosts" / f"{HOST_NAME}.json").is_file()


HOME = {"linux": "/home/ada", "macos": "/Users/ada", "windows": r"C:\Users\ada"}
WIN_ENV = {"LOCALAPPDATA": r"C:\Users\ada\AppData\Local", "ProgramData": r"C:\ProgramData"}
LOCATIONS = [
    ("chrome", "user", "linux", "/home/ada/.config/google-chrome/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("chromium", "system", "linux", "/etc/chromium/native-messaging-hosts/com.shadowmap.bridge.json", None),
    ("edge", "system", "linux", "/etc/opt/edge/native-messaging-hosts/com.shadowmap.bridge.json", None),
    ("brave", "user", "linux",
     "/home/ada/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("firefox", "system", "linux", "/usr/lib/mozilla/native-messaging-hosts/com.shadowmap.bridge.json", None),
    ("chrome", "user", "macos",
     "/Users/ada/Library/Application Support/Google/Chrome/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("chrome", "system", "macos", "/Library/Google/Chrome/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("edge", "user", "macos",
     "/Users/ada/Library/Application Support/Microsoft Edge/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("edge", "system", "macos", "/Library/Microsoft/Edge/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("firefox", "user", "macos",
     "/Users/ada/Library/Application Support/Mozilla/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("chrome", "user", "windows", r"C:\Users\ada\AppData\Local\shadowmap\bridge\com.shadowmap.bridge.json",
     r"HKEY_CURRENT_USER\Software\Google\Chrome\NativeMessagingHosts\com.shadowmap.bridge"),
    ("edge", "system", "windows", r"C:\ProgramData\shadowmap\bridge\com.shadowmap.bridge.json",
     r"HKEY_LOCAL_MACHINE\Software\Microsoft\Edge\NativeMessagingHosts\com.shadowmap.bridge"),
    # Brave: its own profile per user; Chromium's folders and key machine-wide and on Windows
    ("brave", "system", "linux", "/etc/chromium/native-messaging-hosts/com.shadowmap.bridge.json", None),
    ("brave", "user", "macos",
     "/Users/ada/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts/com.shadowmap.bridge.json",
     None),
    ("brave", "system", "macos",
     "/Library/Application Support/Chromium/NativeMessagingHosts/com.shadowmap.bridge.json", None),
    ("brave", "user", "windows", r"C:\Users\ada\AppData\Local\shadowmap\bridge\com.shadowmap.bridge.json",
     r"HKEY_CURRENT_USER\Software\Chromium\NativeMessagingHosts\com.shadowmap.bridge"),
    ("brave", "system", "windows", r"C:\ProgramData\shadowmap\bridge\com.shadowmap.bridge.json",
     r"HKEY_LOCAL_MACHINE\Software\Chromium\NativeMessagingHosts\com.shadowmap.bridge"),
    ("firefox", "user", "windows", r"C:\Users\ada\AppData\Local\shadowmap\bridge\com.shadowmap.bridge.firefox.json",
     r"HKEY_CURRENT_USER\Software\Mozilla\NativeMessagingHosts\com.shadowmap.bridge"),
]


@pytest.mark.parametrize("browser, scope, platform, manifest, key", LOCATIONS)
def test_documented_locations_for_every_os(browser, scope, platform, manifest, key):
    location = manifest_location(browser, scope, platform, HOME[platform], WIN_ENV)
    assert (str(location.manifest), location.registry_key) == (manifest, key)


def test_every_browser_has_a_location_on_every_os():
    for platform in PLATFORMS:
        for browser in BROWSERS:
            for scope in SCOPES:
                location = manifest_location(browser, scope, platform, HOME[platform], WIN_ENV)
                assert location.manifest.name.startswith(HOST_NAME) and location.manifest.is_absolute()
                assert (location.registry_key is not None) == (platform == "windows")
    with pytest.raises(ValueError):
        manifest_location("netscape", "user", "linux", "/home/ada")
    with pytest.raises(ValueError, match="LOCALAPPDATA"):
        manifest_location("chrome", "user", "windows", HOME["windows"], {})
    assert [current_platform(p) for p in ("linux", "darwin", "win32")] == list(PLATFORMS)


def test_registry_file_points_the_key_at_the_manifest():
    text = registry_file(r"HKEY_CURRENT_USER\Software\Google\Chrome\NativeMessagingHosts\com.shadowmap.bridge",
                         PureWindowsPath(r"C:\Users\ada\AppData\Local\shadowmap\bridge\com.shadowmap.bridge.json"))
    assert text == ("Windows Registry Editor Version 5.00\r\n\r\n"
                    "[HKEY_CURRENT_USER\\Software\\Google\\Chrome\\NativeMessagingHosts\\com.shadowmap.bridge]\r\n"
                    '@="C:\\\\Users\\\\ada\\\\AppData\\\\Local\\\\shadowmap\\\\bridge\\\\com.shadowmap.bridge.json"\r\n')


def test_machine_wide_brave_is_where_the_mdm_packages_register_chromium():
    """The .deb, .pkg and .msi register the host once for Chromium; Brave finds it there."""
    from shadowmap.mdm import browsers as mdm

    for platform in ("linux", "macos"):
        brave = manifest_location("brave", "system", platform, HOME[platform], WIN_ENV).manifest.parent
        assert str(brave) == mdm.HOST_MANIFEST_DIRS[platform]["chromium"]
    key = manifest_location("brave", "system", "windows", HOME["windows"], WIN_ENV).registry_key
    assert key == rf"HKEY_LOCAL_MACHINE\{mdm.WINDOWS_HOST_REGISTRY_KEYS['chromium']}\{HOST_NAME}"
