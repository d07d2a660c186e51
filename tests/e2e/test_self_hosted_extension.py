"""Self-hosted extension delivery, for real: `shadowmap bridge publish` signs the extension as a
CRX3 with an organisation key, a real collector serves it and its update manifest, the MDM
builder turns the collector's /extension/info.json into the Linux Chromium policy
(ExtensionInstallForcelist + ExtensionSettings), and Debian's Chromium, reading that policy from
/etc/chromium/policies/managed inside a private mount namespace (the machine's /etc is not
touched), fetches the package from the collector, installs it and runs its service worker."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from support.processes import repo_env, shadowmap_argv, start_collector

from shadowmap.bridge import crx
from shadowmap.mdm import browsers
from shadowmap.mdm.self_hosted import published_extension
from shadowmap.mdm.spec import make_spec

CHROMIUM = "/usr/lib/chromium/chromium"
pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def service_workers(port: int) -> list[str]:
    try:
        targets = json.loads(fetch(f"http://127.0.0.1:{port}/json/list"))
    except OSError:
        return []
    return [t["url"] for t in targets if t.get("type") == "service_worker"]


def test_chromium_force_installs_the_extension_the_collector_serves(tmp_path):
    assert shutil.which("unshare"), "util-linux's unshare is needed to give Chromium its own /etc/chromium"
    with start_collector(tmp_path, "a long enough admin password") as collector:
        key = tmp_path / "keys" / "extension.pem"
        published = subprocess.run(
            shadowmap_argv("bridge", "publish", "--out", str(tmp_path / "extension"), "--key", str(key),
                           "--base-url", collector.url), env=repo_env(), capture_output=True, text=True, timeout=120)
        assert published.returncode == 0, published.stderr
        assert oct(key.stat().st_mode & 0o777) == "0o600"

        # what the collector serves verifies as Chromium checks a CRX3, under the key's id
        info = published_extension(collector.url)
        assert info.update_url == f"{collector.url}/extension/chromium/updates.xml"
        package = fetch(f"{collector.url}/extension/chromium/shadowmap-{info.version}.crx")
        assert crx.verify_crx3(package).extension_id == info.extension_id
        tampered = package[:-40] + bytes(40)
        with pytest.raises(ValueError):
            crx.verify_crx3(tampered)
        assert info.extension_id in fetch(info.update_url).decode()

        # the MDM builder's policy, from the collector's info
        spec = make_spec(collector.url, "x" * 32, info.extension_id, info.update_url)
        policy = browsers.linux_chromium_policy(spec)
        assert policy["ExtensionInstallForcelist"] == [f"{info.extension_id};{info.update_url}"]
        etc = tmp_path / "etc-chromium"
        (etc / "policies" / "managed").mkdir(parents=True)
        for item in Path("/etc/chromium").glob("*"):          # keep the package's own files (master_preferences)
            if item.is_file():
                shutil.copy(item, etc / item.name)
        (etc / "policies" / "managed" / "shadowmap.json").write_text(json.dumps(policy))

        profile, port = tmp_path / "profile", free_port()
        # nothing but loopback resolves: the updater may not reach anything else
        chromium = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                    f"--remote-debugging-port={port}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    "about:blank"]
        script = f'mount --bind "{etc}" /etc/chromium && exec "$@"'
        browser = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                                    *chromium], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            deadline, workers = time.monotonic() + 60, []
            while time.monotonic() < deadline and not workers:
                workers = [u for u in service_workers(port) if u.startswith(f"chrome-extension://{info.extension_id}/")]
                time.sleep(0.5)
            assert workers, f"the force-installed extension's service worker never ran; log:\n" \
                            f"{collector.log_path.read_text()[-2000:]}"
            installed = profile / "Default" / "Extensions" / info.extension_id
            assert installed.is_dir() and any(installed.iterdir())
            manifest = json.loads(next(installed.glob("*/manifest.json")).read_text())
            assert manifest["version"] == info.version
        finally:
            browser.terminate()
            try:
                browser.wait(timeout=20)
            except subprocess.TimeoutExpired:
                browser.kill()
    assert not Path("/etc/chromium/policies").exists(), "the test must not leave a policy on this machine"
