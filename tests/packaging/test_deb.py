"""The .deb, for real: built with dpkg-deb, checked by lintian, installed with dpkg on this
machine, its agent started from the installed path as systemd would start it, enrolled
against a collector on loopback, a heartbeat uploaded, then purged without a trace."""
from __future__ import annotations

import json
import os
import shlex
import sqlite3
import stat
import struct
import subprocess
from pathlib import Path

import pytest
from support.machine_lock import machine_lock

from shadowmap.mdm import browsers, debian
from shadowmap.mdm.spec import HOST_NAME, PACKAGE_NAME, make_spec

pytestmark = pytest.mark.timeout(900)

# roots where the package (or its scripts) may leave something behind
WATCHED_ROOTS = ("/etc", "/opt", "/var/lib", "/usr/lib/mozilla", "/lib/systemd/system", "/usr/share/doc",
                 "/usr/share/lintian/overrides", "/run")
EXPECTED_FILES = {
    debian.UNIT_PATH: 0o644, debian.ENV_FILE: 0o600, debian.SECRET_FILE: 0o600, debian.LAUNCHER: 0o755,
    f"{debian.VENV_PREFIX}/bin/shadowmap": 0o755,
    f"{debian.DOC_DIR}/copyright": 0o644,
}


def sh(*cmd: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{shlex.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def installed() -> bool:
    done = sh("dpkg-query", "-W", "-f", "${Status}", PACKAGE_NAME, check=False)
    return "installed" in done.stdout or "config-files" in done.stdout


def shadowmap_paths() -> set[str]:
    """Every path under the watched roots whose name mentions shadowmap."""
    found = set()
    for root in WATCHED_ROOTS:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not (folder == "/var/lib" and d in ("dpkg", "apt"))]
            for name in dirs + files:
                if "shadowmap" in name or "shadowmap" in folder:
                    found.add(os.path.join(folder, name))
    return found


@pytest.fixture(scope="module")
def deb(collector, tmp_path_factory):
    work = tmp_path_factory.mktemp("deb")
    spec = make_spec(collector["url"], collector["secret"])
    old = os.umask(0o077)  # a hardened builder's umask: the package's modes must not follow it
    try:
        built = debian.build_deb(spec, work / "out", compression="gzip", work_dir=work / "build")
    finally:
        os.umask(old)
    return spec, built.deb


@pytest.fixture(scope="module")
def lintian(deb, tmp_path_factory):
    """lintian takes a minute or more on ~7000 files: it runs while the install test runs."""
    _spec, path = deb
    log = tmp_path_factory.mktemp("lintian") / "lintian.txt"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["lintian", "--tag-display-limit", "0", "--fail-on", "error,warning", str(path)],
                                stdout=out, stderr=subprocess.STDOUT)
    yield proc, log
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture
def clean_system():
    """The system while no browser test runs (the package writes the browsers' system-wide
    policy and host manifest): looked at, then handed to the test, purged after."""
    with machine_lock(exclusive=True):
        if installed():          # left over from an interrupted run
            sh("dpkg", "--purge", PACKAGE_NAME)
        before = shadowmap_paths()
        yield before
        if installed():
            sh("dpkg", "--purge", PACKAGE_NAME, check=False)


def test_deb_metadata_and_layout(deb, lintian):
    spec, path = deb
    assert stat.S_IMODE(path.stat().st_mode) == 0o600         # it holds the enroll secret
    fields = sh("dpkg-deb", "-f", str(path)).stdout
    assert f"Package: {PACKAGE_NAME}" in fields and f"Version: {spec.version}" in fields
    assert "Depends: python3.11" in fields
    listing = {}
    for line in sh("dpkg-deb", "-c", str(path)).stdout.splitlines():
        perms, owner, *_rest, name = line.split(None, 5)
        listing["/" + name.split(" -> ")[0].lstrip("./").rstrip("/")] = (perms, owner)
    for file, mode in EXPECTED_FILES.items():
        assert file in listing, f"{file} missing from the package"
        assert listing[file][1] == "root/root"
        assert listing[file][0][1:] == stat.filemode(mode)[1:], f"{file}: {listing[file][0]}"
    for browser, folder in browsers.HOST_MANIFEST_DIRS["linux"].items():
        assert f"{folder}/{HOST_NAME}.json" in listing, browser
    for folder in browsers.LINUX_POLICY_DIRS.values():
        assert f"{folder}/{browsers.POLICY_FILE_NAME}" in listing
    assert not any(name.endswith(".pyc") for name in listing), "bytecode is compiled by postinst, not shipped"
    venv_files = [perms for name, (perms, _owner) in listing.items() if name.startswith(debian.VENV_PREFIX + "/lib/")]
    assert venv_files and all(perms[-3] == "r" and perms[-6] == "r" for perms in venv_files)  # the host runs as users
    conffiles = sh("dpkg-deb", "--info", str(path), "conffiles").stdout.split()
    etc_files = {name for name, (perms, _owner) in listing.items() if name.startswith("/etc/") and perms[0] == "-"}
    assert set(conffiles) == etc_files and debian.SECRET_FILE in etc_files


def test_browser_documents_are_valid(deb):
    spec, _path = deb
    for path, text in debian.browser_files(spec).items():
        doc = json.loads(text)
        if "/policies/managed/" in path:
            assert browsers.validate_chromium_policy(doc, path) == []
            assert doc["ExtensionInstallForcelist"] == [f"{spec.extension_id};{spec.extension_update_url}"]
            assert doc["NativeMessagingAllowlist"] == [HOST_NAME]
            assert doc["3rdparty"]["extensions"][spec.extension_id] == browsers.managed_storage(spec)
        else:
            assert doc["path"] == debian.LAUNCHER and doc["name"] == HOST_NAME
            family = "firefox" if "mozilla" in path else "chromium"
            assert browsers.validate_host_manifest(doc, family, "linux") == []
            key = "allowed_extensions" if "mozilla" in path else "allowed_origins"
            assert doc[key] == [spec.firefox_extension_id if "mozilla" in path else spec.chrome_origin]


def unit_exec(unit_text: str) -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart argv and the environment its EnvironmentFile gives it."""
    keys = {}
    for line in unit_text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    for line in Path(keys["EnvironmentFile"]).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return shlex.split(keys["ExecStart"]), env


def host_ping(launcher: str) -> dict:
    """Talk to the installed native host as Chrome would: one framed ping on stdin."""
    body = json.dumps({"type": "ping", "id": 7}).encode()
    done = subprocess.run([launcher, "chrome-extension://x/"], input=struct.pack("<I", len(body)) + body,
                          capture_output=True, timeout=30)
    (length,) = struct.unpack("<I", done.stdout[:4])
    return json.loads(done.stdout[4:4 + length])


def test_install_enroll_heartbeat_purge(deb, collector, clean_system, tmp_path, helpers):
    Proc, wait_until = helpers
    spec, path = deb
    listing = ["/" + line.split(None, 5)[-1].split(" -> ")[0].lstrip("./").rstrip("/")
               for line in sh("dpkg-deb", "-c", str(path)).stdout.splitlines()]
    existed = {p for p in listing if os.path.lexists(p)}
    sh("dpkg", "-i", str(path), timeout=600)
    files = [f for f in sh("dpkg", "-L", PACKAGE_NAME).stdout.splitlines() if f.startswith("/") and f != "/."]

    # installed layout and permissions
    for file, mode in EXPECTED_FILES.items():
        info = os.stat(file)
        assert stat.S_IMODE(info.st_mode) == mode and info.st_uid == 0, file
    assert Path(debian.SECRET_FILE).read_text().strip() == collector["secret"]
    verify = sh("systemd-analyze", "verify", debian.UNIT_PATH, check=False)
    assert verify.returncode == 0, verify.stderr
    assert "shadowmap" not in verify.stderr, verify.stderr

    # postinst enrolled the device
    enrollment = Path(debian.STATE_DIR) / "enrollment.json"
    assert stat.S_IMODE(enrollment.stat().st_mode) == 0o600
    device_id = json.loads(enrollment.read_text())["device_id"]
    with sqlite3.connect(collector["db"]) as db:
        assert db.execute("SELECT count(*) FROM devices WHERE device_id = ?", (device_id,)).fetchone() == (1,)

    # the service's command, run as systemd would (no systemd PID 1 here)
    argv, env = unit_exec(Path(debian.UNIT_PATH).read_text())
    assert argv[0].startswith(debian.PREFIX)
    agent = Proc(argv, tmp_path / "agent.log", env)
    try:
        agent.wait_for_line(f"agent ready on {debian.SOCKET}", timeout=240)
        assert host_ping(debian.LAUNCHER)["type"] == "pong"

        def heartbeat_stored():
            with sqlite3.connect(collector["db"]) as db:
                return db.execute("SELECT count(*) FROM events WHERE type = 'agent.heartbeat' AND device_id = ?",
                                  (device_id,)).fetchone()[0]
        wait_until(heartbeat_stored, timeout=90, what="the installed agent's heartbeat in the collector")
    finally:
        assert agent.stop() == 0, (tmp_path / "agent.log").read_text()[-3000:]

    # a planned removal: prerm (remove) runs the installed `shadowmap agent retire` first
    purged = sh("dpkg", "--purge", PACKAGE_NAME, timeout=300)
    assert not installed()
    assert "the collector knows this device is retiring (uninstall)" in purged.stdout + purged.stderr
    with sqlite3.connect(collector["db"]) as db:
        retiring = [json.loads(body)["data"] for (body,) in db.execute(
            "SELECT body FROM events WHERE type = 'agent.retiring' AND device_id = ?", (device_id,))]
        watched = db.execute("SELECT retired_reason FROM device_watch WHERE device_id = ?", (device_id,)).fetchall()
    assert retiring == [{"reason": "uninstall"}] and watched == [("uninstall",)]
    left = sorted(f for f in files if os.path.lexists(f) and not os.path.isdir(f))
    assert left == [], f"files of the package left after purge: {left}"
    new = sorted(shadowmap_paths() - clean_system)
    assert new == [], f"left behind after purge: {new}"
    for folder in files:     # a folder still there existed before or belongs to another package
        if os.path.isdir(folder) and folder not in existed:
            assert sh("dpkg", "-S", folder, check=False).returncode == 0, f"{folder} left behind"


def test_lintian_clean(lintian):
    """Last in the module: lintian was started by the fixture and ran meanwhile."""
    proc, log = lintian
    proc.wait(timeout=900)
    output = log.read_text()
    tags = [line for line in output.splitlines() if line[:2] in ("E:", "W:")]
    assert tags == [] and proc.returncode == 0, output[-5000:]
