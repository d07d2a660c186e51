"""Lists the packages under each folder of pyproject.toml's package-dir table, so a new
subpackage ships without a second list to keep. Everything else is in pyproject.toml."""
import tomllib
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def packages() -> list[str]:
    package_dir = tomllib.loads((HERE / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    found = []
    for name, folder in package_dir.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(str(HERE / folder)) if f"{name}.{sub.split('.')[0]}" not in package_dir]
    return sorted(set(found))


setup(packages=packages())
