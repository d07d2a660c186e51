"""inotify limits: when watchdog cannot add a watch the agent keeps running, warns once
naming the limit and the sysctl to raise, polls the affected config files instead, and says
so in the heartbeat. The machine-wide sysctl cannot be lowered during a shared test run, so
the refusal is injected at the one watch-scheduling seam (ConfigWatcher._schedule) with the
exact OSError watchdog raises; everything else is real (engine, spool, watchdog observer)."""
from __future__ import annotations

import errno
import json
import logging
import subprocess

import pytest
from support.processes import REPO, repo_env, shadowmap_argv

from shadowmap.agent.config import load_config
from shadowmap.agent.daemon import AgentDaemon
from shadowmap.agent.discovery.watcher import ConfigWatcher

from .conftest import wait_until

AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"

# what watchdog 7 raises (watchdog/observers/inotify_c.py, InotifyFD._raise_error)
REFUSALS = {
    "watch-limit": (OSError(errno.ENOSPC, "inotify watch limit reached"), "fs.inotify.max_user_watches"),
    "instance-limit": (OSError(errno.EMFILE, "inotify instance limit reached"), "fs.inotify.max_user_instances"),
}


def spooled(daemon: AgentDaemon, kind: str) -> list[dict]:
    return [e for e in daemon.spool.next_batch(10_000) if e["type"] == kind]


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_watches_fall_back_to_polling(case, tmp_path, engine, catalog, summarize, monkeypatch, caplog):
    error, sysctl = REFUSALS[case]
    asked: list[str] = []

    def refuse(self, folder):
        asked.append(folder)
        raise error
    monkeypatch.setattr(ConfigWatcher, "_schedule", refuse)
    home = tmp_path / "home" / "dana"
    project = home / "src" / "shop"
    project.mkdir(parents=True)
    (project / "CLAUDE.md").write_text("Run the tests with make test.\n")
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "run" / "agent.sock",
                         mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""}, upload_interval=3600,
                         heartbeat_interval=3600, policy_refresh_interval=3600, process_interval=3600,
                         network_interval=3600, extension_interval=3600, config_rescan_interval=3600,
                         watch_poll_interval=0.5)
    daemon = AgentDaemon(config, engine, catalog, summarize, homes=[("dana", home)], resolver=lambda h: [])
    caplog.set_level(logging.WARNING, logger="shadowmap.agent.discovery.watcher")
    daemon.start()
    try:
        service = daemon.discovery
        wait_until(lambda: service.passes["configs"] >= 1 and service.passes["watch_fallback"] >= 1,
                   30, "the first config pass")
        assert asked and str(home) in asked and str(project) in asked
        assert service.watcher.watched == []

        # written after the start, in folders nobody watches: found by the fallback poll
        (home / ".cursor").mkdir()
        (home / ".cursor" / "mcp.json").write_text(json.dumps({"mcpServers": {"aws": {
            "command": "uvx", "args": ["awslabs.aws-api-mcp-server"], "env": {"AWS_ACCESS_KEY_ID": AWS_KEY}}}}))
        (project / ".env.local").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
        found = wait_until(lambda: len(spooled(daemon, "ai_config.finding")) >= 2 and
                           spooled(daemon, "ai_config.finding"), 30, "the fallback poll to find both")
        paths = {e["data"]["path"] for e in found}
        assert paths == {str(home / ".cursor" / "mcp.json"), str(project / ".env.local")}
        assert all(e["data"]["findings"][0]["entity_type"] == "AWS_ACCESS_KEY" for e in found)
        [server] = spooled(daemon, "mcp_server.observed")
        assert server["data"]["package"] == "awslabs.aws-api-mcp-server"

        limitation = daemon.heartbeat()["data"]["discovery"]["watch"]
        assert sysctl in limitation and "polled every 0.5 s" in limitation
        warnings = [r.getMessage() for r in caplog.records
                    if r.levelno == logging.WARNING and r.name == "shadowmap.agent.discovery.watcher"]
        assert len(warnings) == 1 and sysctl in warnings[0]       # once, not per plan
        assert daemon.discovery._thread.is_alive()
        status = subprocess.run(shadowmap_argv("agent", "status", "--state-dir", str(tmp_path / "state"),
                                               "--socket", str(tmp_path / "none.sock")),
                                cwd=REPO, env=repo_env({"SHADOWMAP_AGENT_CONFIG": ""}),
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        assert f"limit:        watch: {limitation}" in status.stdout
        assert AWS_KEY.encode() not in b"".join(p.read_bytes() for p in (tmp_path / "state").glob("spool.db*"))
    finally:
        daemon.stop(flush_timeout=0)


def test_watches_that_are_granted_leave_no_limitation(tmp_path):
    """The control: a real watch on a real folder, no fallback, a change marks the file dirty."""
    import threading
    wake = threading.Event()
    watcher = ConfigWatcher(wake)
    watcher.start()
    try:
        target = tmp_path / "cfg" / "mcp.json"
        watcher.plan([target])                         # folder missing: the nearest one is watched
        assert watcher.watched == [str(tmp_path)] and watcher.limitation is None
        assert watcher.polled_targets() == []
        target.parent.mkdir()                          # its creation is a change worth a replan
        assert wait_until(lambda: wake.is_set(), 10, "the watch event")
        assert str(target.parent) in watcher.take_dirty()
    finally:
        watcher.stop()
