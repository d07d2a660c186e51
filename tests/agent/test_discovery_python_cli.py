"""The version of a pip/pipx-installed AI CLI (aider) comes from the installed distribution's
metadata beside its console script, never from running the tool: a real venv, a tiny wheel
built here and installed with `pip install --no-index`, the console script pip generated run
as a real process (directly and through a pipx-style symlink)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from shadowmap.agent.discovery import processes

from .conftest import wait_until

VERSION = "0.86.1"


def build_wheel(folder: Path) -> Path:
    """aider-chat 0.86.1: a console script `aider` that sleeps (a stand-in for the real CLI)."""
    folder.mkdir()
    wheel = folder / f"aider_chat-{VERSION}-py3-none-any.whl"
    info = f"aider_chat-{VERSION}.dist-info"
    files = {
        "aider_fake/__init__.py": "import time\n\n\ndef main():\n    time.sleep(120)\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: aider-chat\nVersion: {VERSION}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\naider = aider_fake:main\n",
        f"{info}/top_level.txt": "aider_fake\n",
    }
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr(f"{info}/RECORD", "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n")
    return folder


def test_pip_installed_cli_version_from_its_dist_info(tmp_path, catalog, spawn):
    wheels = build_wheel(tmp_path / "wheels")
    venv = tmp_path / "pipx" / "venvs" / "aider-chat"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-index", "--find-links", str(wheels), "--disable-pip-version-check", "aider-chat"],
                   check=True, timeout=300, capture_output=True)
    script = venv / "bin" / "aider"
    assert script.read_text().startswith("#!")                 # pip's generated console script
    user_bin = tmp_path / "home" / ".local" / "bin"
    user_bin.mkdir(parents=True)
    os.symlink(script, user_bin / "aider")                      # how pipx exposes it

    direct = spawn(str(script))
    via_link = spawn(str(user_bin / "aider"))
    matcher = processes.ProcessMatcher(catalog)

    def found():
        hits = {m.pid: m for m in matcher.scan()}
        return hits if {direct.pid, via_link.pid} <= set(hits) else None
    hits = wait_until(found, 15, "the console-script processes")
    for pid in (direct.pid, via_link.pid):
        assert (hits[pid].tool_id, hits[pid].version) == ("aider", VERSION)

    assert processes.console_script_version([str(user_bin / "aider")]) == VERSION
    assert processes.console_script_version([str(venv / "bin" / "python")]) is None     # not a script of it
    assert processes.console_script_version(["aider", str(tmp_path / "aider")]) is None
