"""The agent imports and builds its Windows defaults without any POSIX-only facility, and
the Windows choices that are data or pure functions (state folders, pipe addresses, user
profile folders) are what Windows expects.

The import check runs in a child interpreter in which pwd, grp, fcntl, termios and
resource cannot be imported and os.geteuid/getuid/getegid/getgid, socket.AF_UNIX and
socket.SO_PEERCRED do not exist, as on Windows. (Nothing is patched in this process.)
What it cannot show: that the Win32 calls themselves work; see docs/deploy.md."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path, PureWindowsPath

from support.processes import REPO, repo_env

from shadowmap.agent import config
from shadowmap.agent.cli import ipc_address
from shadowmap.agent.discovery.extensions import ExtensionInventory, windows_homes

USER_SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
WINDOWS_ENV = {"ProgramData": r"D:\ProgramData", "LOCALAPPDATA": r"C:\Users\ada\AppData\Local",
               "SHADOWMAP_AGENT_CONFIG": ""}

WITHOUT_POSIX = textwrap.dedent(r'''
    import importlib, json, os, pkgutil, socket, sys, tempfile
    # third-party libraries first: on Windows they bring their own Windows variants
    import click, psutil, requests, sqlite_utils, watchdog.observers  # noqa: F401
    POSIX_ONLY = {"pwd", "grp", "fcntl", "termios", "resource"}
    for name in POSIX_ONLY:
        sys.modules.pop(name, None)

    class NoPosix:
        def find_spec(self, name, path=None, target=None):
            if name in POSIX_ONLY:
                raise ImportError(f"No module named {name!r} (not on Windows)")
            return None

    sys.meta_path.insert(0, NoPosix())
    for name in ("geteuid", "getuid", "getegid", "getgid"):
        delattr(os, name)
    for name in ("AF_UNIX", "SO_PEERCRED"):
        delattr(socket, name)

    imported = []
    import shadowmap.agent as agent
    import shadowmap.bridge as bridge
    import shadowmap.ipc as ipc
    for package in (agent, bridge, ipc):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
            imported.append(module.name)

    from shadowmap.agent.config import load_config
    from shadowmap.agent.spool import Spool
    from shadowmap.agent import events
    env = json.loads(sys.argv[1])
    system = load_config(mode="system", env=env, platform="win32")
    # no mode given: per user (the per-user pipe's SID would come from a Win32 call: named here)
    assert load_config(env=env, platform="win32", socket_path="\\\\.\\pipe\\x").mode == "user"
    with tempfile.TemporaryDirectory() as state:
        spool = Spool(os.path.join(state, "spool.db"))
        spool.put(events.agent_heartbeat(device_id=events.UNENROLLED_DEVICE, user="ada", agent_version="0",
                                         hostname="pc", os_name="Windows", os_version="11", spool_depth=0,
                                         users=[], spool_dropped=0))
        depth = spool.depth()
        spool.close()
    print(json.dumps({"imported": imported, "state_dir": str(system.state_dir),
                      "socket": str(system.socket_path), "spooled": depth}))
''')


def test_the_agent_imports_and_configures_without_posix_facilities():
    result = subprocess.run([sys.executable, "-c", WITHOUT_POSIX, json.dumps(WINDOWS_ENV)], cwd=REPO,
                            env=repo_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for module in ("shadowmap.agent.cli", "shadowmap.agent.config", "shadowmap.agent.spool", "shadowmap.agent.daemon", "shadowmap.agent.ipc", "shadowmap.agent.ipc_windows",
                   "shadowmap.agent.winservice", "shadowmap.agent.managed", "shadowmap.agent.discovery.extensions", "shadowmap.agent.discovery.service",
                   "shadowmap.ipc.agent_link", "shadowmap.ipc.winpipe", "shadowmap.bridge.host"):
        assert module in out["imported"]
    assert out["state_dir"] == r"D:\ProgramData\shadowmap"
    assert out["socket"] == r"\\.\pipe\shadowmap-agent"
    assert out["spooled"] == 1


def test_windows_state_folders_and_pipes():
    system = config.load_config(mode="system", env=WINDOWS_ENV, platform="win32")
    assert str(system.state_dir) == r"D:\ProgramData\shadowmap"
    assert str(system.spool_path).startswith(r"D:\ProgramData\shadowmap")
    assert str(system.socket_path) == r"\\.\pipe\shadowmap-agent"
    assert config.default_state_dir("user", WINDOWS_ENV, "win32") == Path(r"C:\Users\ada\AppData\Local\shadowmap")
    assert config.default_state_dir("system", {}, "win32") == Path(r"C:\ProgramData\shadowmap")
    user_pipe = config.default_socket_path("user", {}, "win32", user_sid=lambda: USER_SID)
    assert str(user_pipe) == rf"\\.\pipe\shadowmap-agent-{USER_SID}"
    # on Windows a pipe name survives the trip through a Path unchanged
    assert str(PureWindowsPath(str(user_pipe))) == str(user_pipe)
    assert config.default_mode("win32") == "user"
    # an explicit address still wins
    cfg = config.load_config(mode="system", env={**WINDOWS_ENV, "SHADOWMAP_AGENT_SOCKET": r"\\.\pipe\test"},
                             platform="win32")
    assert str(cfg.socket_path) == r"\\.\pipe\test"


def test_status_looks_for_the_pipe_the_agent_serves():
    system = config.load_config(mode="system", env=WINDOWS_ENV, platform="win32")
    assert ipc_address(system, platform="win32") == r"\\.\pipe\shadowmap-agent"
    # a socket path from a shared config means the default pipe, as the pipe server reads it
    shared = config.load_config(mode="system", socket_path="/run/shadowmap/agent.sock", env=WINDOWS_ENV,
                                platform="win32")
    assert ipc_address(shared, platform="win32") == r"\\.\pipe\shadowmap-agent"
    linux = config.load_config(mode="system", env={"SHADOWMAP_AGENT_CONFIG": ""}, platform="linux")
    assert ipc_address(linux, platform="linux") == "/run/shadowmap/agent.sock"


def test_windows_profile_folders(tmp_path):
    users = tmp_path / "Users"
    for name in ("ada", "Bob Smith", "Public", "Default", "desktop.ini"):
        (users / name).mkdir(parents=True) if "." not in name else (users / name).write_text("")
    (users / "All Users").symlink_to(tmp_path, target_is_directory=True)   # a link, never followed
    assert windows_homes(users) == [("Bob Smith", users / "Bob Smith"), ("ada", users / "ada")]
    assert windows_homes(tmp_path / "missing") == []


def test_windows_browser_profiles_are_found_under_appdata(tmp_path, catalog):
    """A Chrome profile laid out as on Windows, read with the Windows table."""
    home = tmp_path / "ada"
    tool = next(t for t in catalog.tools if getattr(t, "browser_extension_ids", ()))
    ext_id = tool.browser_extension_ids[0]
    folder = home / "AppData/Local/Google/Chrome/User Data/Default/Extensions" / ext_id / "1.0_0"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": "AI helper", "version": "1.0", "manifest_version": 3}))
    found = ExtensionInventory(catalog, platform="win32").scan(homes=[("ada", home)])
    assert [(o.data["browser"], o.data["extension_id"], o.data["tool_id"]) for o in found] == \
        [("chrome", ext_id, tool.id)]
    assert ExtensionInventory(catalog, platform="linux").scan(homes=[("ada", home)]) == []
