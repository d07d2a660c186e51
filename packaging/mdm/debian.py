"""`shadowmap package linux`: the shadowmap-agent .deb, built with dpkg-deb.

Layout (what `dpkg -c` shows):
  /opt/shadowmap/venv/                    the agent's own Python environment (payload.py)
  /opt/shadowmap/bin/shadowmap-bridge-host  native-messaging host launcher
  /lib/systemd/system/shadowmap-agent.service
  /etc/shadowmap/agent.env, enroll_secret  conffiles, 0600 root
  <browser>/native-messaging-hosts/com.shadowmap.bridge.json   Chrome, Chromium, Edge, Firefox
  <browser>/policies/managed/shadowmap.json                    Chrome, Chromium, Edge
  /usr/share/doc/shadowmap-agent/         copyright, changelog.gz, README.Debian
Maintainer scripts (packaging/mdm/templates/linux/debian/) enroll on install and clean up on purge.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from shadowmap.contract import host
from shadowmap.mdm import browsers, payload
from shadowmap.mdm.spec import HOST_NAME, PACKAGE_NAME, PackageSpec

TEMPLATES = Path(__file__).resolve().parent / "templates" / "linux"
PREFIX = "/opt/shadowmap"
VENV_PREFIX = f"{PREFIX}/venv"
LAUNCHER = f"{PREFIX}/bin/{host.LAUNCHER_NAME}"
UNIT_PATH = "/lib/systemd/system/shadowmap-agent.service"
ETC_DIR = "/etc/shadowmap"
ENV_FILE = f"{ETC_DIR}/agent.env"
SECRET_FILE = f"{ETC_DIR}/enroll_secret"
STATE_DIR = "/var/lib/shadowmap"
SOCKET = host.system_socket("linux")
DOC_DIR = f"/usr/share/doc/{PACKAGE_NAME}"
# the venv links to Debian's interpreter; its compiled wheels are built for CPython 3.11
TARGET_PYTHON = "/usr/bin/python3.11"
# manylinux_2_28 wheels need glibc 2.28
DEPENDS = "python3.11, libc6 (>= 2.28), init-system-helpers (>= 1.52)"
COMPRESSIONS = ("xz", "gzip")      # lintian and Debian's archive accept no other
MAINTAINER = "shadowmap packaging <packaging@shadowmap.dev>"


@dataclass(frozen=True)
class DebBuild:
    deb: Path
    stage: Path | None   # the tree dpkg-deb packed, kept only when a work_dir was given


def agent_env(spec: PackageSpec) -> str:
    """systemd EnvironmentFile: the agent reads all of it from its environment."""
    return "\n".join([
        "# shadowmap agent settings, read by shadowmap-agent.service (EnvironmentFile).",
        "# Changing the collector URL here takes effect on `systemctl restart shadowmap-agent`.",
        "SHADOWMAP_AGENT_MODE=system",
        f"SHADOWMAP_COLLECTOR_URL={spec.collector_url}",
        f"SHADOWMAP_ENROLL_SECRET_FILE={SECRET_FILE}",
        f"SHADOWMAP_STATE_DIR={STATE_DIR}",
        f"{host.AGENT_SOCKET_ENV}={SOCKET}",
        "",
    ])


def launcher_script() -> str:
    # -I: the browser's environment (PYTHONPATH, user site) cannot change the code that runs
    return "\n".join([
        "#!/bin/sh",
        "# shadowmap native-messaging host: started by the browser, relays to the system agent",
        f"{host.AGENT_SOCKET_ENV}={SOCKET}",
        f"export {host.AGENT_SOCKET_ENV}",
        f'exec {VENV_PREFIX}/bin/python -I -m shadowmap.bridge.host "$@"',
        "",
    ])


def browser_files(spec: PackageSpec) -> dict[str, str]:
    """Install path -> JSON text for every host manifest and managed policy."""
    files = {}
    for browser, folder in browsers.HOST_MANIFEST_DIRS["linux"].items():
        manifest = browsers.host_manifest(browser, spec, LAUNCHER)
        files[f"{folder}/{HOST_NAME}.json"] = json.dumps(manifest, indent=2) + "\n"
    policy = json.dumps(browsers.linux_chromium_policy(spec), indent=2) + "\n"
    for folder in browsers.LINUX_POLICY_DIRS.values():
        files[f"{folder}/{browsers.POLICY_FILE_NAME}"] = policy
    return files


def _put(stage: Path, path: str, text: str | bytes, mode: int = 0o644) -> Path:
    target = stage / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    target.chmod(mode)
    return target


def _changelog(spec: PackageSpec) -> bytes:
    stamp = format_datetime(datetime(2026, 1, 1, tzinfo=UTC))
    text = (f"{PACKAGE_NAME} ({spec.version}) stable; urgency=medium\n\n"
            f"  * Built by `shadowmap package linux`.\n\n -- {MAINTAINER}  {stamp}\n")
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def control_file(spec: PackageSpec, installed_kib: int) -> str:
    return "\n".join([
        f"Package: {PACKAGE_NAME}",
        f"Version: {spec.version}",
        "Architecture: amd64",
        f"Maintainer: {MAINTAINER}",
        f"Installed-Size: {installed_kib}",
        f"Depends: {DEPENDS}",
        "Section: admin",
        "Priority: optional",
        "Homepage: https://shadowmap.dev/",
        "Description: shadowmap agent: stops company data leaking into AI tools",
        " The workstation agent of shadowmap with its browser native-messaging host,",
        " browser policies that force-install the shadowmap extension, and a systemd",
        " service that enrolls with the company's collector.",
        "",
    ])


def stage_tree(spec: PackageSpec, stage: Path, venv_source: Path) -> None:
    """Lay out the package's files under `stage` (the venv is copied from venv_source)."""
    shutil.copytree(venv_source, stage / VENV_PREFIX.lstrip("/"), symlinks=True)
    _world_readable(stage)  # the builder's umask (077 on hardened hosts) must not reach the package
    _put(stage, LAUNCHER, launcher_script(), 0o755)
    _put(stage, UNIT_PATH, (TEMPLATES / "shadowmap-agent.service").read_text("utf-8"))
    _put(stage, ENV_FILE, agent_env(spec), 0o600)
    _put(stage, SECRET_FILE, spec.enroll_secret + "\n", 0o600)
    for path, text in browser_files(spec).items():
        _put(stage, path, text)
    _put(stage, f"{DOC_DIR}/copyright", (TEMPLATES / "copyright").read_text("utf-8"))
    _put(stage, f"{DOC_DIR}/README.Debian", (TEMPLATES / "README.Debian").read_text("utf-8"))
    _put(stage, f"{DOC_DIR}/changelog.gz", _changelog(spec))
    _put(stage, "/usr/share/lintian/overrides/" + PACKAGE_NAME,
         (TEMPLATES / "lintian-overrides").read_text("utf-8"))
    for folder in stage.rglob("*"):
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o755)


def _world_readable(root: Path) -> None:
    """Files 0644 (0755 when executable) and folders 0755 under root, whatever umask made them:
    the native host runs as each browser user from the venv."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o100 else 0o644)


def write_control(spec: PackageSpec, stage: Path) -> None:
    debian = stage / "DEBIAN"
    debian.mkdir()
    debian.chmod(0o755)  # dpkg-deb refuses a control folder a 077 umask made 0700
    sums, size = [], 0
    conffiles = {ENV_FILE, SECRET_FILE} | {p for p in browser_files(spec) if p.startswith("/etc/")}
    for path in sorted(stage.rglob("*")):
        rel = path.relative_to(stage).as_posix()
        if rel.startswith("DEBIAN") or path.is_dir() or path.is_symlink():
            continue
        size += path.stat().st_size
        if "/" + rel not in conffiles:
            sums.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {rel}")
    _put(debian, "control", control_file(spec, (size + 1023) // 1024))
    _put(debian, "md5sums", "\n".join(sums) + "\n")
    _put(debian, "conffiles", "\n".join(sorted(conffiles)) + "\n")
    for script in ("postinst", "prerm", "postrm"):
        _put(debian, script, (TEMPLATES / "debian" / script).read_text("utf-8"), 0o755)


def build_deb(spec: PackageSpec, out_dir: Path, venv_source: Path | None = None,
              compression: str = "xz", work_dir: Path | None = None,
              wheelhouse: Path = payload.DEFAULT_WHEELHOUSE) -> DebBuild:
    """Build the .deb into out_dir. venv_source: a venv already built for VENV_PREFIX
    (see build_payload_venv), else one is built now. Without work_dir the build happens in
    a temporary folder that is removed afterwards (it holds a copy of the enroll secret)."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}")
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="shadowmap-deb-") as tmp:
            built = build_deb(spec, out_dir, venv_source, compression, Path(tmp), wheelhouse)
        return DebBuild(deb=built.deb, stage=None)
    work = Path(work_dir)
    if venv_source is None:
        venv_source = build_payload_venv(work / "venv-build", wheelhouse)
    stage = work / "root"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(mode=0o755, parents=True)
    stage_tree(spec, stage, venv_source)
    write_control(spec, stage)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{PACKAGE_NAME}_{spec.version}_amd64.deb"
    building = work / deb.name
    level = {"xz": "6", "gzip": "6"}[compression]
    # --root-owner-group: every file root:root whoever builds
    payload.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", f"-z{level}", "--build",
                 str(stage), str(building)], "dpkg-deb --build",
                env={**os.environ, "SOURCE_DATE_EPOCH": "1767225600"})
    # the .deb holds the enroll secret: readable by the builder only before it is visible
    building.chmod(0o600)
    shutil.move(building, deb)
    return DebBuild(deb=deb, stage=stage)


def build_payload_venv(work: Path, wheelhouse: Path = payload.DEFAULT_WHEELHOUSE) -> Path:
    """Build the agent's venv for VENV_PREFIX under work/; returns the venv folder."""
    wheel = payload.build_project_wheel(work / "wheels", wheelhouse)
    return payload.build_venv(work / "stage", VENV_PREFIX, TARGET_PYTHON, wheel, wheelhouse)
