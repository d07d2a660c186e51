"""Discovery sources on real things: copies of a small binary running under AI tools' names,
a real listening socket and a real connection, browser profiles on disk; and the tracker
that reports on change plus once a day, never on every poll."""
from __future__ import annotations

import json
import plistlib
import shutil
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shadowmap.agent.discovery import network, processes
from shadowmap.agent.discovery.extensions import ExtensionInventory
from shadowmap.agent.discovery.tracker import Tracker

from .conftest import wait_until

SLEEP = shutil.which("sleep")
CLAUDE_EXTENSION = "fcoeoabgfenejglbffodgkkbkcdhcgfn"     # in the catalog (claude)


def fake_tools(root: Path) -> dict[str, Path]:
    """`sleep` copied under AI tools' names, a macOS-style bundle, and a node CLI package."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    shutil.copy(SLEEP, claude)
    app = root / "Cursor.app" / "Contents"
    (app / "MacOS").mkdir(parents=True)
    shutil.copy(SLEEP, app / "MacOS" / "Cursor")
    (app / "Info.plist").write_bytes(plistlib.dumps(
        {"CFBundleIdentifier": "com.todesktop.230313mzl4w4u92", "CFBundleShortVersionString": "1.7.3"}))
    package = root / "lib" / "node_modules" / "@openai" / "codex"
    (package / "bin").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "@openai/codex", "version": "0.42.0"}))
    script = package / "bin" / "codex.py"
    script.write_text("import time\ntime.sleep(120)\n")
    return {"claude": claude, "cursor": app / "MacOS" / "Cursor", "codex": script}


def test_processes_named_like_ai_tools_are_found_with_versions(tmp_path, catalog, spawn):
    tools = fake_tools(tmp_path)
    pids = {
        "claude-code": spawn(str(tools["claude"]), "120").pid,
        "cursor": spawn(str(tools["cursor"]), "120").pid,
        "codex-cli": spawn(sys.executable, str(tools["codex"])).pid,
    }
    not_a_tool = tmp_path / "bin" / "claudette"
    shutil.copy(SLEEP, not_a_tool)
    near_miss = spawn(str(not_a_tool), "120").pid
    matcher = processes.ProcessMatcher(catalog)

    def found():
        hits = {m.pid: m for m in matcher.scan()}
        return hits if set(pids.values()) <= set(hits) else None
    hits = wait_until(found, 10, "the fake AI tools in the process table")
    assert near_miss not in hits
    claude, cursor, codex = (hits[pids[k]] for k in ("claude-code", "cursor", "codex-cli"))
    assert (claude.tool_id, claude.matched_by, claude.exe) == ("claude-code", "name", str(tools["claude"]))
    assert (cursor.tool_id, cursor.matched_by, cursor.version) == ("cursor", "bundle_id", "1.7.3")
    assert (codex.tool_id, codex.matched_by, codex.version) == ("codex-cli", "cmdline", "0.42.0")
    assert claude.user == "root" and claude.version is None

    observed = processes.observations([claude, cursor, codex], "agent")
    assert {o.data["tool_id"] for o in observed} == {"claude-code", "cursor", "codex-cli"}
    assert all(o.event_type == "ai_tool.observed" and o.data["source"] == "process" for o in observed)


def _listening_child(host: str, port: int) -> subprocess.Popen:
    code = ("import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            f"s.bind(({host!r},{port}))\ns.listen()\nprint('up',flush=True)\ntime.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "up"
    return proc


def test_local_model_server_listening_is_attributed_to_its_process(catalog):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 11434))
            port, ports = 11434, None                    # the catalog's own Ollama port
        except OSError:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            ports = {port: "ollama"}                     # 11434 busy here: same test, free port
    server = _listening_child("127.0.0.1", port)
    try:
        matches, _ = network.scan(catalog, None, ports)
        [hit] = [m for m in matches if m.pid == server.pid]
        assert (hit.tool_id, hit.kind, hit.port, hit.user) == ("ollama", "listener", port, "root")
        assert hit.process and hit.process.startswith("python")
        [obs] = network.observations([hit], "agent")
        assert obs.data == {"tool_id": "ollama", "source": "listener", "process": hit.process,
                            "port": port, "matched_by": "port", "process_user": "root"}
    finally:
        server.kill()
        server.wait(timeout=10)


def test_connection_to_an_ai_api_address_is_found(catalog):
    """api.anthropic.com 'resolves' (injected resolver) to a loopback address a real server
    listens on; a child process connects to it and is named as the one talking to the API."""
    address = "127.0.0.77"
    server = socket.socket()
    server.bind((address, 0))
    server.listen()
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    code = (f"import socket,time\nc=socket.create_connection(({address!r},{port}))\n"
            "print('up',flush=True)\ntime.sleep(120)\n")
    client = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "up"
        book = network.AddressBook(catalog, {"api.anthropic.com": [address]}.get, refresh_seconds=3600)
        book.refresh()
        book.resolver = lambda host: pytest.fail("resolved again before the refresh interval")
        book.refresh()
        matches, _ = network.scan(catalog, book)
        [hit] = [m for m in matches if m.pid == client.pid]
        assert (hit.tool_id, hit.kind, hit.domain) == ("anthropic-console", "network", "api.anthropic.com")
        unrelated = network.AddressBook(catalog, {"api.openai.com": ["127.0.0.78"]}.get)
        unrelated.refresh()
        assert not [m for m in network.scan(catalog, unrelated)[0] if m.pid == client.pid]
    finally:
        client.kill()
        client.wait(timeout=10)
        for conn in accepted:
            conn.close()
        server.close()


def _chrome_extension(profile: Path, ext_id: str, manifest: dict, messages: dict | None = None) -> None:
    folder = profile / "Extensions" / ext_id / "1.0_0"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    if messages:
        (folder / "_locales" / "en").mkdir(parents=True)
        (folder / "_locales" / "en" / "messages.json").write_text(json.dumps(messages))


def test_browser_profiles_on_disk(tmp_path, catalog):
    home = tmp_path / "alice"
    chrome = home / ".config" / "google-chrome"
    _chrome_extension(chrome / "Default", CLAUDE_EXTENSION, {
        "manifest_version": 3, "name": "__MSG_appName__", "default_locale": "en", "version": "1.0.4",
        "permissions": ["sidePanel", "tabs"]}, {"appName": {"message": "Claude"}})
    _chrome_extension(chrome / "Profile 2", "a" * 32, {
        "manifest_version": 3, "name": "Prompt helper", "version": "2.1",
        "permissions": ["storage"], "host_permissions": ["https://chatgpt.com/*", "https://example.org/*"]})
    _chrome_extension(chrome / "Profile 2", "b" * 32, {
        "manifest_version": 3, "name": "Weather", "version": "1", "host_permissions": ["https://example.org/*"]})
    _chrome_extension(home / ".config" / "BraveSoftware" / "Brave-Browser" / "Default", "c" * 32, {
        "manifest_version": 2, "name": "Reads every page", "version": "9", "permissions": ["<all_urls>", "cookies"]})
    (chrome / "Profile 2" / "Preferences").write_text(json.dumps(
        {"extensions": {"settings": {"a" * 32: {"state": 0}}}}))
    firefox = home / ".mozilla" / "firefox" / "x1y2.default-release"
    firefox.mkdir(parents=True)
    (firefox / "extensions.json").write_text(json.dumps({"addons": [
        {"id": "ai-sidebar@example.org", "type": "extension", "version": "3.0", "active": True,
         "defaultLocale": {"name": "AI Sidebar"},
         "userPermissions": {"permissions": ["storage"], "origins": ["*://*.claude.ai/*"]}},
        {"id": "theme@example.org", "type": "theme", "version": "1"},
    ]}))
    found = {o.data["extension_id"]: o for o in ExtensionInventory(catalog).scan([("alice", home)])}
    assert set(found) == {CLAUDE_EXTENSION, "a" * 32, "c" * 32, "ai-sidebar@example.org"}
    claude = found[CLAUDE_EXTENSION].data
    assert (claude["tool_id"], claude["name"], claude["browser"], claude["profile"]) == \
        ("claude", "Claude", "chrome", "Default")
    helper = found["a" * 32].data
    assert helper["ai_hosts"] == ["chatgpt.com"] and helper["enabled"] is False and helper["tool_id"] is None
    assert "https://chatgpt.com/*" in helper["permissions"] and "storage" in helper["permissions"]
    assert found["c" * 32].data["all_sites"] is True and found["c" * 32].data["browser"] == "brave"
    sidebar = found["ai-sidebar@example.org"].data
    assert (sidebar["browser"], sidebar["ai_hosts"], sidebar["profile_user"]) == ("firefox", ["claude.ai"], "alice")


def test_tracker_reports_on_change_and_daily_not_every_poll(tmp_path):
    from shadowmap.agent.discovery import Observation
    now = [datetime(2026, 11, 26, 9, 0, tzinfo=UTC)]
    emitted: list[tuple] = []
    path = tmp_path / "discovery.json"

    def obs(version: str) -> Observation:
        return Observation("ai_tool.observed", ("process", "ollama", "bob", "/usr/bin/ollama"), version, "bob",
                           {"tool_id": "ollama", "source": "process", "process": "ollama", "version": version})
    tracker = Tracker(path, lambda *event: emitted.append(event), clock=lambda: now[0])
    tracker.observe([obs("0.5.1")])
    for _minute in range(1, 30):                      # polls the same day: nothing new
        now[0] += timedelta(minutes=1)
        tracker.observe([obs("0.5.1")])
    now[0] += timedelta(minutes=1)
    tracker.observe([obs("0.6.0")])                   # upgraded
    tracker.save(force=True)
    restarted = Tracker(path, lambda *event: emitted.append(event), clock=lambda: now[0])
    restarted.observe([obs("0.6.0")])                 # a restart is not "new"
    now[0] += timedelta(days=1)
    restarted.observe([obs("0.6.0")])
    restarted.observe([obs("0.6.0")])
    assert [(e[2]["change"], e[2]["version"]) for e in emitted] == \
        [("new", "0.5.1"), ("changed", "0.6.0"), ("daily", "0.6.0")]
    assert emitted[0][2]["first_seen"] == "2026-11-26T09:00:00Z"
    assert emitted[2][2]["first_seen"] == "2026-11-26T09:00:00Z"
    assert emitted[2][2]["last_seen"] == "2026-11-27T09:30:00Z"

    def refuse(*_):
        raise OSError("disk full")
    failing = Tracker(None, refuse, clock=lambda: now[0])
    assert failing.observe([obs("1")]) == []
    failing.emit = lambda *event: emitted.append(event)
    assert [e["data"]["change"] for e in failing.observe([obs("1")])] == ["new"]    # retried, not lost
