"""Lay the installed shape of the package (shadowmap/agent, shadowmap/bridge, ...) out as a
tree of links into the repository's folders, so tools that read files rather than import
them (mypy, import-linter) see `shadowmap.*` as a wheel would install it.

    python tests/tooling/stage_tree.py build/stage      # then MYPYPATH=build/stage mypy -p shadowmap

The mapping is pyproject.toml's [tool.setuptools.package-dir]; nothing here repeats it.
"""
from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def package_dirs() -> dict[str, Path]:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in table.items()}


def stage(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    dirs = package_dirs()
    top = out / "shadowmap"
    top.mkdir(parents=True)
    for entry in dirs.pop("shadowmap").iterdir():
        if entry.suffix == ".py" or (entry / "__init__.py").is_file():
            (top / entry.name).symlink_to(entry)
    for name, folder in dirs.items():
        (out / Path(*name.split("."))).symlink_to(folder, target_is_directory=True)
    return out


if __name__ == "__main__":
    print(stage(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build" / "stage").resolve()))
