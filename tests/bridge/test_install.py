"""`shadowmap bridge install`: the host manifest lands where the browser looks, and its
`path` is an absolute, executable launcher that really starts the host."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from extension_bridge import framing
from extension_bridge.extension_id import committed_extension_id
from extension_bridge.install import HOST_NAME, manifest_dir

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
