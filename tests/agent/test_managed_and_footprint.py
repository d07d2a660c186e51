"""Managed configuration (TOML, macOS plist, Windows registry values) with errors that name
the key, and the footprint guard on a real busy process."""
from __future__ import annotations

import plistlib
import subprocess
import sys
import time

import psutil
import pytest

from shadowmap.agent.config import load_config
from shadowmap.agent.footprint import OPTIONAL_WORK, FootprintGuard
from shadowmap.agent.managed import ManagedConfigError, read_file, registry_values


def test_managed_toml_sits_between_environment_and_defaults(tmp_path):
    managed = tmp_path / "agent.toml"
    managed.write_text('[agent]\ncollector_url = "https://collector.corp:8443/"\nupload_interval = 30\n'
                       'discovery = false\nworkspace_roots = ["~/code"]\nrss_budget_mb = 180\n')
    env = {"SHADOWMAP_AGENT_CONFIG": str(managed)}
    cfg = load_config(mode="user", env=env, state_dir=tmp_path / "s")
    assert (cfg.collector_url, cfg.upload_interval, cfg.discovery) == ("https://collector.corp:8443", 30.0, False)
    assert (cfg.workspace_roots, cfg.rss_budget_mb) == (("~/code",), 180.0)
    env["SHADOWMAP_UPLOAD_INTERVAL"] = "2"
    assert load_config(mode="user", env=env, state_dir=tmp_path / "s").upload_interval == 2.0
    assert load_config(mode="user", env=env, state_dir=tmp_path / "s", upload_interval=1.0).upload_interval == 1.0


@pytest.mark.parametrize("body, message", [
    ('uplaod_interval = 3\n', "unknown setting 'uplaod_interval'"),
    ('upload_interval = "soon"\n', "upload_interval must be a number, not 'soon'"),
    ('discovery = 3\n', "discovery must be true or false, not 3"),
    ('collector_url = 5\n', "collector_url must be a string, not 5"),
    ('upload_interval = \n', "not valid TOML"),
])
def test_bad_managed_config_names_the_key(tmp_path, body, message):
    managed = tmp_path / "agent.toml"
    managed.write_text(body)
    with pytest.raises(ManagedConfigError) as err:
        load_config(mode="user", env={"SHADOWMAP_AGENT_CONFIG": str(managed)}, state_dir=tmp_path)
    assert message in str(err.value) and str(managed) in str(err.value)


def test_macos_plist_and_windows_registry_values(tmp_path):
    plist = tmp_path / "dev.shadowmap.agent.plist"
    plist.write_bytes(plistlib.dumps({"PayloadUUID": "x", "collector_url": "https://c.corp",
                                      "process_interval": 120, "discovery": True}))
    cfg = load_config(mode="user", env={"SHADOWMAP_AGENT_CONFIG": str(plist)}, state_dir=tmp_path)
    assert (cfg.collector_url, cfg.process_interval, cfg.discovery) == ("https://c.corp", 120.0, True)
    assert read_file(tmp_path / "absent.toml") == ({}, str(tmp_path / "absent.toml"))
    reg_sz, reg_multi_sz, reg_dword = 1, 7, 4
    assert registry_values([("collector_url", "https://c.corp", reg_sz), ("upload_interval", 15, reg_dword),
                            ("workspace_roots", ["C:/src", "D:/code"], reg_multi_sz)]) == \
        {"collector_url": "https://c.corp", "upload_interval": 15, "workspace_roots": ["C:/src", "D:/code"]}


def test_footprint_guard_slows_down_and_sheds_work_then_recovers():
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        guard = FootprintGuard(cpu_budget_percent=5, rss_budget_mb=10_000, process=psutil.Process(busy.pid))
        time.sleep(1.0)
        assert guard.check() is True
        assert guard.cpu_percent > 5 and guard.throttle == 2 and guard.shed == [OPTIONAL_WORK[0]]
        time.sleep(0.3)
        guard.check()
        assert guard.throttle == 4 and guard.shed == list(OPTIONAL_WORK[:2])
    finally:
        busy.kill()
        busy.wait(timeout=10)
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        guard.process = psutil.Process(idle.pid)
        time.sleep(1.0)                               # past the interpreter's start-up
        guard._last = guard._cpu_seconds(), time.monotonic()
        for _ in range(3):
            time.sleep(0.1)
            assert guard.check() is False
        assert guard.throttle == 2 and guard.shed == [OPTIONAL_WORK[0]]
        report = guard.report()
        assert report["over_budget_count"] == 2 and report["throttle"] == 2
    finally:
        idle.kill()
        idle.wait(timeout=10)
