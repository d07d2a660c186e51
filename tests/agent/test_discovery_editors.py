"""Folders recently opened in VS Code, Cursor and Windsurf (workspaceStorage/*/workspace.json)
become candidate AI workspaces: the ones with markers are scanned (a planted secret is found),
the others, remote windows and broken files are ignored. A temp home, the real engine."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from shadowmap.agent.config import load_config
from shadowmap.agent.discovery import editors
from shadowmap.agent.discovery.service import Discovery

AWS_KEY = "AKIAZ3MHQ4WXRT6PLN2B"


def remember(home: Path, app: str, window: str, doc: dict | str, age_days: float = 0) -> None:
    folder = home / ".config" / app / "User" / "workspaceStorage" / window
    folder.mkdir(parents=True)
    path = folder / "workspace.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    stamp = time.time() - age_days * 86400
    os.utime(path, (stamp, stamp))


def uri(path: Path) -> str:
    return "file://" + quote(str(path))


@pytest.mark.parametrize("text, expected", [
    ("file:///home/a/src/proj%20one", Path("/home/a/src/proj one")),
    ("file://localhost/home/a/x", Path("/home/a/x")),
    ("file:///c%3A/Users/a/src", Path("c:/Users/a/src")),
    ("vscode-remote://ssh-remote%2Bbox/home/a/x", None),
    ("file://fileserver/share/x", None),
    ("untitled:Untitled-1", None),
    (42, None),
])
def test_folder_of_uri(text, expected):
    assert editors.folder_of_uri(text) == expected


def test_recently_opened_folders_are_candidate_workspaces(tmp_path, catalog, engine, summarize):
    home = tmp_path / "home" / "erin"
    elsewhere = tmp_path / "elsewhere"                      # not under any workspace root
    claude_project = elsewhere / "proj one"
    claude_project.mkdir(parents=True)
    (claude_project / "CLAUDE.md").write_text("Use pnpm.\n")
    (claude_project / ".env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    cursor_project = elsewhere / "shop"
    (cursor_project / ".cursor").mkdir(parents=True)
    (cursor_project / ".cursor" / "mcp.json").write_text('{"mcpServers": {"fs": {"command": "npx", '
                                                         '"args": ["-y", "@modelcontextprotocol/server-filesystem"]}}}')
    plain = elsewhere / "plain"
    plain.mkdir()
    old = elsewhere / "old-agents"
    old.mkdir()
    (old / "AGENTS.md").write_text("x\n")
    remember(home, "Code", "a1", {"folder": uri(claude_project)})
    remember(home, "Cursor", "b2", {"folder": uri(cursor_project)})
    remember(home, "Windsurf", "c3", {"folder": uri(plain)})
    remember(home, "Code", "d4", {"folder": "vscode-remote://ssh-remote%2Bbox/srv/app"})
    remember(home, "Code", "e5", {"workspace": uri(elsewhere / "x.code-workspace")})
    remember(home, "Code", "f6", "{broken")
    remember(home, "Code", "g7", {"folder": uri(elsewhere / "deleted")})
    remember(home, "Code", "h8", {"folder": uri(old)}, age_days=editors.MAX_AGE_DAYS + 5)

    assert set(editors.recent_folders(home)) == {claude_project, cursor_project, plain}

    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", mode="user",
                         env={"SHADOWMAP_AGENT_CONFIG": ""})
    discovery = Discovery(config, catalog, user="agent", org_key=lambda: b"k" * 32, scan=engine.scan,
                          summarize=summarize, homes=[("erin", home)], resolver=lambda h: [], ports={})
    found = discovery.config_files()
    assert discovery.workspaces == sorted([str(claude_project), str(cursor_project)])
    [finding] = [o.data for o in found if o.event_type == "ai_config.finding"]
    assert (finding["path"], finding["workspace"], finding["tool_id"]) == \
        (str(claude_project / ".env"), str(claude_project), "claude-code")
    assert finding["findings"][0]["entity_type"] == "AWS_ACCESS_KEY"
    [server] = [o.data for o in found if o.event_type == "mcp_server.observed"]
    assert (server["package"], server["workspace"], server["tool_id"]) == \
        ("@modelcontextprotocol/server-filesystem", str(cursor_project), "cursor")
    assert AWS_KEY not in json.dumps([o.data for o in found])
