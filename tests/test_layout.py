"""The distribution's shape: one import namespace, every package shipped, every library a
package imports declared for the extra that installs it."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGE_DIRS = {name: REPO / folder for name, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items()}

# which extras a package's imports may come from (the base dependencies always)
EXTRAS_OF = {
    "shadowmap": ("agent", "collector"),      # cli.py and devrun.py start either side, lazily
    "shadowmap.contract": (),
    "shadowmap.detectors": ("agent",),
    "shadowmap.agent": ("agent",),
    "shadowmap.bridge": ("agent",),
    "shadowmap.collector": ("collector",),
    "shadowmap.mdm": ("mdm",),
}
# imports that live in another package than their name says, or only on Windows
WINDOWS_ONLY = {"win32api", "win32file", "win32pipe", "win32security", "win32service", "win32serviceutil",
                "pywintypes", "servicemanager"}
# what a laptop must not get (web server, templates engine for the console, password KDF, plotting)
NOT_ON_LAPTOPS = {"aiohttp", "aiohttp-jinja2", "argon2-cffi", "matplotlib", "prometheus-client", "jsonschema-rs"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return canonical(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])


def declared(extras: tuple[str, ...]) -> set[str]:
    names = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    for extra in extras:
        names |= {requirement_name(r) for r in PYPROJECT["project"]["optional-dependencies"][extra]}
    return names


def third_party_imports(folder: Path) -> dict[str, set[str]]:
    """Top-level module -> files importing it, for every non-stdlib, non-shadowmap import."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("shadowmap", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def own_folder_files(name: str) -> Path:
    return PACKAGE_DIRS[name]


@pytest.mark.parametrize("package", sorted(EXTRAS_OF))
def test_every_imported_library_is_declared_for_its_package(package):
    distributions = importlib.metadata.packages_distributions()
    allowed = declared(EXTRAS_OF[package])
    folder = own_folder_files(package)
    imports = third_party_imports(folder)
    if package == "shadowmap":   # the root folder only: its subpackages live in other folders
        imports = {m: {f for f in files if Path(f).parent == folder.relative_to(REPO)} for m, files in imports.items()}
        imports = {m: files for m, files in imports.items() if files}
    undeclared = {}
    for module, files in imports.items():
        if module in WINDOWS_ONLY:
            assert "pywin32" in allowed, (package, module)
            continue
        dists = {canonical(d) for d in distributions.get(module, [])}
        assert dists, f"{module} (imported by {sorted(files)}) is not installed in the test venv"
        if not dists & allowed:
            undeclared[module] = sorted(files)
    assert not undeclared, f"{package} imports libraries its extras do not declare: {undeclared}"


def test_the_agent_extra_leaves_the_collector_libraries_out():
    assert not declared(("agent",)) & NOT_ON_LAPTOPS


def test_every_package_folder_is_mapped_and_nothing_generic_is_at_the_top():
    top_folders = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}
    mapped = {folder.relative_to(REPO).parts[0] for folder in PACKAGE_DIRS.values()}
    # every importable top-level folder is a shadowmap.* package; packaging/ itself must not
    # be one (it would shadow PyPI's `packaging` for anything run from the checkout)
    assert top_folders <= mapped, top_folders - mapped
    assert not (REPO / "packaging" / "__init__.py").exists()
    assert all(name == "shadowmap" or name.startswith("shadowmap.") for name in PACKAGE_DIRS)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # from a copy of the tree: setuptools' build/ folder would keep modules that moved away
    source, out = tmp_path_factory.mktemp("src") / "shadowmap", tmp_path_factory.mktemp("wheel")
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "var", "node_modules", "__pycache__", "*.egg-info", "tests", "bench"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=300, cwd=out)
    [built] = out.glob("shadowmap-*.whl")
    return built


def test_the_wheel_installs_only_the_shadowmap_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"shadowmap", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    # every package folder arrives, with its data
    for expected in ("shadowmap/collector/app.py", "shadowmap/contract/events.v1.json", "shadowmap/bridge/host.py",
                     "shadowmap/bridge/extension/manifest.json", "shadowmap/detectors/data/vendors.yaml",
                     "shadowmap/mdm/templates/linux/shadowmap-agent.service", "shadowmap/agent/daemon.py"):
        assert expected in names, expected


def test_the_installed_wheel_imports_as_shadowmap_and_nothing_else(wheel, tmp_path):
    """Installed into a fresh venv (its dependencies borrowed from the test venv, without
    the editable install), `shadowmap.collector` imports and the old top-level names do not."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    # dependencies from the test venv: a plain path entry, so its editable-install hook is not run
    (site / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = ("import importlib, pathlib, zipfile, shadowmap.collector.app, shadowmap.contract, shadowmap.bridge.host\n"
             "from shadowmap.mdm import payload\n"
             "assert shadowmap.collector.app.__file__.startswith(" + repr(str(site)) + ")\n"
             "for name in ('agent', 'collector', 'detectors', 'extension_bridge', 'schema'):\n"
             "    try:\n"
             "        importlib.import_module(name)\n"
             "    except ModuleNotFoundError:\n"
             "        continue\n"
             "    raise SystemExit(f'{name} is importable')\n"
             # the MDM builders: pins from the package, the project wheel packed from the install
             "assert not payload.in_checkout() and payload.LOCK_FILE.is_file() and payload.MODEL_REQUIREMENTS.is_file()\n"
             "repacked = payload.build_project_wheel(pathlib.Path('out'))\n"
             "print(repacked.name)\n"
             "print('\\n'.join(sorted(zipfile.ZipFile(repacked).namelist())))\n")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    name, *repacked = done.stdout.split()
    assert name == wheel.name
    # the same files as the wheel it was installed from (RECORD is written anew)
    assert set(repacked) == set(zipfile.ZipFile(wheel).namelist())
