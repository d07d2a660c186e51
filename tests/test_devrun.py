"""`make run` end to end: collector up, agent enrolled and ready, native host registered."""
import json
import os
import subprocess
import sys
from pathlib import Path

from shadowmap.contract import host


def test_make_run_brings_up_the_whole_system(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(tmp_path),
           # discovery looks only at this test's home, not the machine's users
           "SHADOWMAP_DISCOVERY_HOMES": str(home), "SHADOWMAP_WORKSPACE_ROOTS": str(home)}
    env.pop("SHADOWMAP_ADMIN_PASSWORD", None)
    out = subprocess.run(
        [sys.executable, "-m", "shadowmap.devrun", "--var-dir", str(tmp_path / "var"),
         "--port", "0", "--exit-when-ready"],
        env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "shadowmap is running" in out.stdout
    assert "dashboard   http://127.0.0.1:" in out.stdout

    enrollment = json.loads((tmp_path / "var" / "agent" / "enrollment.json").read_text())
    assert enrollment["device_id"] and enrollment["node_key"]
    assert oct((tmp_path / "var" / "agent" / "enrollment.json").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "var" / "admin_password").stat().st_mode & 0o777) == "0o600"

    manifest_path = home / ".config" / "chromium" / "NativeMessagingHosts" / "com.shadowmap.bridge.json"
    manifest = json.loads(manifest_path.read_text())
    assert Path(manifest["path"]).is_absolute() and os.access(manifest["path"], os.X_OK)
    assert manifest["allowed_origins"] == [f"chrome-extension://{host.CHROMIUM_EXTENSION_ID}/"]
