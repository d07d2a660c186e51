"""AI tool configs and workspaces, end to end: the in-process daemon (real engine, spool,
watchdog) with a real collector subprocess. Planted secrets become critical findings with
keyed hashes; the values appear nowhere in spool.db/-wal or the collector's database; a
change is picked up by the watcher at once; a FIFO and a symlink loop do not stop it."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from support.processes import REPO

from shadowmap.agent.config import load_config
from shadowmap.agent.daemon import AgentDaemon
from shadowmap.agent.enroll import enroll, read_secret

from .conftest import wait_until

AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"
DB_PASSWORD = "Pr0dDbPassw0rd77"
LATER_KEY = "AKIAQ7YRTN4KZP2MWX5C"


def plant(home: Path) -> Path:
    cursor = home / ".cursor"
    cursor.mkdir(parents=True)
    (cursor / "mcp.json").write_text(json.dumps({"mcpServers": {
        "prod-db": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres",
                                               f"postgresql://app:{DB_PASSWORD}@db.prod.internal:5432/app"]},
        "github": {"url": "https://api.githubcopilot.com/mcp/?t=x", "headers": {"Authorization": "Bearer zzz"}},
    }}))
    project = home / "src" / "shop"
    project.mkdir(parents=True)
    (project / "CLAUDE.md").write_text("Run the tests with make test.\n")
    (project / ".env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    (home / ".claude").mkdir()
    os.mkfifo(home / ".claude" / "settings.json")             # would block a naive reader
    os.symlink(".claude.json", home / ".claude.json")           # a symlink loop: unreadable
    return project


def collector_events(db: Path, kind: str) -> list[dict]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(events)")]
        column = "body" if "body" in cols else ("event" if "event" in cols else "data")
        return [json.loads(r[0]) for r in conn.execute(f"SELECT {column} FROM events WHERE type = ?", [kind])]
    finally:
        conn.close()


def raw_bytes(*paths: Path) -> bytes:
    return b"".join(p.read_bytes() for base in paths for p in base.parent.glob(base.name + "*"))


def test_config_secrets_and_mcp_servers_reach_the_collector_without_values(
        tmp_path, engine, catalog, summarize, collector):
    db, url, secret_file = collector
    home = tmp_path / "home" / "dana"
    project = plant(home)
    state = tmp_path / "state"
    enroll(url, read_secret(secret_file), state)
    config = load_config(state_dir=state, socket_path=tmp_path / "run" / "agent.sock", collector_url=url,
                         mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""}, upload_interval=0.2,
                         heartbeat_interval=3600, policy_refresh_interval=3600, process_interval=3600,
                         network_interval=3600, extension_interval=3600, config_rescan_interval=3600)
    daemon = AgentDaemon(config, engine, catalog, summarize, homes=[("dana", home)], resolver=lambda h: [])
    daemon.start()
    try:
        found = wait_until(lambda: len(collector_events(db, "ai_config.finding")) >= 2 and
                           collector_events(db, "ai_config.finding"), 60, "two config findings")
        by_path = {e["data"]["path"]: e for e in found}
        mcp_finding = by_path[str(home / ".cursor" / "mcp.json")]["data"]
        env_finding = by_path[str(project / ".env")]
        assert mcp_finding["finding"] == "AI tool with production read access via copied secrets"
        assert (mcp_finding["severity"], mcp_finding["tool_id"]) == ("critical", "cursor")
        # production access, and the password in it
        assert [f["entity_type"] for f in mcp_finding["findings"]] == ["DB_CONNECTION_URL", "DB_PASSWORD"]
        assert env_finding["user"] == "dana"
        assert env_finding["data"]["workspace"] == str(project) and env_finding["data"]["tool_id"] == "claude-code"
        [aws] = env_finding["data"]["findings"]
        assert aws["entity_type"] == "AWS_ACCESS_KEY" and len(aws["hashes"]) == 1

        servers = {e["data"]["name"]: e["data"] for e in collector_events(db, "mcp_server.observed")}
        assert servers["prod-db"]["package"] == "@modelcontextprotocol/server-postgres"
        assert servers["github"] == {"tool_id": "cursor", "config_path": str(home / ".cursor" / "mcp.json"),
                                     "name": "github", "transport": "http", "change": "new",
                                     "url_origin": "https://api.githubcopilot.com", "env_keys": ["Authorization"],
                                     # the planted header is a literal token (agent/discovery/risks.py)
                                     "risks": [{"flag": "plaintext_secret",
                                                "evidence": "Authorization written as literal values in the config"}]}

        # a change is seen by the watcher, long before the hourly rescan
        (project / ".env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\nBACKUP_KEY={LATER_KEY}\n")
        changed = wait_until(lambda: [e for e in collector_events(db, "ai_config.finding")
                                      if e["data"]["path"] == str(project / ".env")
                                      and len(e["data"]["findings"][0]["hashes"]) == 2], 30, "the rescan")
        assert changed[0]["data"]["findings"][0]["count"] == 2
        unreadable = daemon.discovery.discovery.unreadable
        assert str(home / ".claude" / "settings.json") in unreadable and str(home / ".claude.json") in unreadable
        beat = daemon.heartbeat()
        assert beat["data"]["discovery"]["configs"] == "2 config files could not be read"
        wait_until(lambda: daemon.spool.depth() == 0, 30, "the spool to drain")
    finally:
        daemon.stop(flush_timeout=2)
    stored = raw_bytes(state / "spool.db", db) + (state / "discovery.json").read_bytes()
    for value in (AWS_KEY, LATER_KEY, DB_PASSWORD, "Bearer zzz"):
        assert value.encode() not in stored
    assert len(collector_events(db, "mcp_server.observed")) == 2          # not re-sent on rescans


def test_inventory_command_prints_one_pass(tmp_path):
    home = tmp_path / "erin"
    plant(home)
    result = subprocess.run(
        [sys.executable, "-m", "shadowmap.cli", "agent", "inventory", "--json", "--no-scan",
         "--home", str(home), "--state-dir", str(tmp_path / "state")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SHADOWMAP_AGENT_CONFIG": "", "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert {s["name"] for s in found["mcp_servers"]} == {"prod-db", "github"}
    assert found["workspaces"] == [str(home / "src" / "shop")]
    assert found["config_findings"] == []                     # --no-scan
    assert str(home / ".claude.json") in found["unreadable"]
    assert set(found) >= {"processes", "listeners", "connections", "browser_extensions", "limitations"}
    assert DB_PASSWORD not in result.stdout and AWS_KEY not in result.stdout
