"""The Windows agent's Python packages: the win_amd64 wheelhouse, the payload kit for the
Windows build machine, and the check that a payload holds every pinned package.

`packaging/mdm/templates/windows/requirements-win_amd64.txt` is the Windows lock: the agent's runtime
closure resolved for Windows (with its Windows-only packages: pywin32 for the service
host, colorama for click), every pin the same version as requirements.lock, every file
pinned by SHA-256. It is generated, not hand-edited (the command is in its header:
`uv pip compile --python-platform x86_64-pc-windows-msvc`, since pip cannot resolve
another OS's markers). The wheels are fetched from
PyPI with `pip download --platform win_amd64 --require-hashes` once and cached under
~/.cache/shadowmap/wheelhouse-win_amd64; later builds are offline.

On this Linux machine the same wheels can be unpacked into a payload's site-packages
(`pip install --target --platform win_amd64`): everything a payload holds except the
CPython runtime itself, which only the Windows build script (build-payload.ps1) adds.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from shadowmap.mdm import payload

WINDOWS_DIR = Path(__file__).resolve().parent / "templates" / "windows"
WINDOWS_LOCK = WINDOWS_DIR / "requirements-win_amd64.txt"
BUILD_SCRIPT = WINDOWS_DIR / "build-payload.ps1"
EMBED_PIN = WINDOWS_DIR / "python-embed.json"       # the CPython embeddable zip: URL + SHA-256
DEFAULT_WHEELHOUSE = payload.DEFAULT_WHEELHOUSE.with_name("wheelhouse-win_amd64")
# the target interpreter: CPython 3.11 for 64-bit Windows (the embeddable distribution)
TARGET = ["--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
          "--only-binary", ":all:"]
SITE_PACKAGES = "python/Lib/site-packages"
# packages that exist only in the Windows lock (platform markers) or are pip's own tooling
WINDOWS_ONLY = frozenset({"pywin32", "colorama"})
RESOLVER_ONLY = frozenset({"pip", "setuptools"})

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock_text: str) -> dict[str, str]:
    """Canonical package name -> version, from a requirements file."""
    return {canonical(name): version for name, version in _PIN.findall(lock_text)}


def lock_disagreements(windows_lock: str, main_lock: str) -> list[str]:
    """Pins of the Windows lock that requirements.lock pins differently or not at all
    (beyond the Windows-only and resolver packages): [] when the locks agree."""
    main = pins(main_lock)
    problems = []
    for name, version in sorted(pins(windows_lock).items()):
        if name in main and main[name] != version:
            problems.append(f"{name}: {version} for Windows, {main[name]} in requirements.lock")
        elif name not in main and name not in WINDOWS_ONLY | RESOLVER_ONLY:
            problems.append(f"{name}=={version} is not in requirements.lock")
    return problems


def _wheel_pin(path: Path) -> tuple[str, str]:
    name, version = path.name.split("-")[:2]
    return canonical(name), version


def wheelhouse_pins(wheelhouse: Path) -> dict[str, str]:
    return dict(_wheel_pin(p) for p in wheelhouse.glob("*.whl"))


def fetch_wheelhouse(wheelhouse: Path = DEFAULT_WHEELHOUSE) -> Path:
    """Every pinned wheel of the Windows lock and the model wheel, hash-checked, in
    `wheelhouse` (downloaded only when missing)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    have = wheelhouse_pins(wheelhouse)
    wanted = {**pins(WINDOWS_LOCK.read_text("utf-8")), **pins(payload.MODEL_REQUIREMENTS.read_text("utf-8"))}
    if any(have.get(name) != version for name, version in wanted.items()):
        for requirements in (WINDOWS_LOCK, payload.MODEL_REQUIREMENTS):
            payload.run(payload.pip_command() + ["download", "-q", "--no-deps", "--require-hashes", *TARGET,
                                                 "-r", str(requirements), "-d", str(wheelhouse)],
                        f"downloading the Windows wheels of {requirements.name}")
    missing = [f"{n}=={v}" for n, v in wanted.items() if wheelhouse_pins(wheelhouse).get(n) != v]
    if missing:
        raise payload.BuildError("no win_amd64 wheel for: " + ", ".join(missing)
                                 + " (see docs/deploy.md, Windows: a pin without a Windows wheel)")
    return wheelhouse


def install_into(site_packages: Path, wheelhouse: Path, project_wheel: Path) -> None:
    """Unpack the Windows wheels into a payload's site-packages, offline, hash-checked
    (the project wheel is built here, so it has no published hash to check)."""
    base = payload.pip_command() + ["install", "-q", "--no-compile", "--no-deps", "--no-index",
                                    "--find-links", str(wheelhouse), *TARGET, "--target", str(site_packages)]
    for requirements in (WINDOWS_LOCK, payload.MODEL_REQUIREMENTS):
        payload.run(base + ["--upgrade", "--require-hashes", "-r", str(requirements)],
                    f"installing {requirements.name} into the Windows payload")
    payload.run(base + ["--upgrade", str(project_wheel)], "installing shadowmap into the Windows payload")


def installed_pins(site_packages: Path) -> dict[str, str]:
    """Canonical name -> version of every distribution in a site-packages folder."""
    found = {}
    for info in site_packages.glob("*.dist-info"):
        name, _, version = info.name[:-len(".dist-info")].rpartition("-")
        found[canonical(name)] = version
    return found


# the marker environment of the target: CPython 3.11 on 64-bit Windows
WINDOWS_MARKERS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                   "platform_machine": "AMD64", "python_version": "3.11", "python_full_version": "3.11.3",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython",
                   "extra": ""}


def unmet_requirements(site_packages: Path) -> list[str]:
    """`pip check` for the target: each installed distribution's requirements (markers
    evaluated for Windows) that no installed distribution satisfies."""
    from email.parser import Parser

    from packaging.requirements import Requirement

    have = installed_pins(site_packages)
    problems = []
    for info in sorted(site_packages.glob("*.dist-info")):
        metadata = Parser().parsestr((info / "METADATA").read_text("utf-8", errors="replace"), headersonly=True)
        for line in metadata.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(WINDOWS_MARKERS):
                continue
            found = have.get(canonical(requirement.name))
            if found is None or not requirement.specifier.contains(found, prereleases=True):
                problems.append(f"{info.name[:-len('.dist-info')]} needs {requirement} (found {found or 'nothing'})")
    return problems


def payload_problems(payload_dir: Path) -> list[str]:
    """What a payload lacks of the Windows lock, the model and shadowmap, and any
    requirement of an installed package left unmet; [] when complete."""
    site = payload_dir / SITE_PACKAGES
    if not site.is_dir():
        return [f"{SITE_PACKAGES} is missing"]
    have = installed_pins(site)
    wanted = {**pins(WINDOWS_LOCK.read_text("utf-8")), **pins(payload.MODEL_REQUIREMENTS.read_text("utf-8"))}
    problems = [f"{name}=={version} (found {have.get(name) or 'nothing'})"
                for name, version in sorted(wanted.items()) if have.get(name) != version]
    if "shadowmap" not in have:
        problems.append("shadowmap itself")
    return problems + unmet_requirements(site)


def copy_service_host(payload_dir: Path) -> list[Path]:
    """pythonservice.exe and pywin32's DLLs beside python.exe, where the service host finds
    python311.dll and pywintypes311.dll (what pywin32's post-install does for services)."""
    site = payload_dir / SITE_PACKAGES
    sources = [site / "win32" / "pythonservice.exe", *sorted((site / "pywin32_system32").glob("*.dll"))]
    copied = []
    for source in sources:
        target = payload_dir / "python" / source.name
        shutil.copy2(source, target)
        copied.append(target)
    return copied


def write_kit(kit: Path, wheelhouse: Path, project_wheel: Path) -> list[Path]:
    """Everything the Windows build machine needs besides the CPython embeddable zip:
    the wheels, the locks, the project wheel and build-payload.ps1."""
    wheels = kit / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for wheel in [*wheelhouse.glob("*.whl"), project_wheel]:
        if not wheel.name.startswith("shadowmap-") or wheel == project_wheel:
            shutil.copy2(wheel, wheels / wheel.name)
    for source in (WINDOWS_LOCK, payload.MODEL_REQUIREMENTS, BUILD_SCRIPT, EMBED_PIN):
        shutil.copy2(source, kit / source.name)
    return sorted(kit.rglob("*"))
