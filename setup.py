"""Two things pyproject.toml cannot say; everything else is there.

- The packages under each folder of its package-dir table, so a new subpackage ships
  without a second list to keep.
- The pins (requirements.lock, requirements-model.txt) copied into shadowmap.mdm in the
  wheel, so the MDM builders work from an installed wheel as from a checkout.
"""
import shutil
import tomllib
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PINS = ("requirements.lock", "requirements-model.txt")   # shadowmap.mdm.payload.PINS_DIR reads them


def packages() -> list[str]:
    package_dir = tomllib.loads((HERE / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    found = []
    for name, folder in package_dir.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(str(HERE / folder))
                  if f"{name}.{sub.split('.')[0]}" not in package_dir]
    return sorted(set(found))


class BuildWithPins(build_py):
    def run(self) -> None:
        super().run()
        pins = Path(self.build_lib) / "shadowmap" / "mdm" / "pins"
        pins.mkdir(parents=True, exist_ok=True)
        for name in PINS:
            shutil.copyfile(HERE / name, pins / name)


setup(packages=packages(), cmdclass={"build_py": BuildWithPins})
