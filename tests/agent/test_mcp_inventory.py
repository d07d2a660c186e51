"""MCP servers in every config format the AI tools use, with what must never be kept:
arguments, env values, URL paths and queries (where tokens live)."""
from __future__ import annotations

import pytest

from agent.discovery import mcp

CASES = [
    ("claude_desktop_config.json",
     '{"mcpServers": {"pg": {"command": "/usr/local/bin/npx", "args": ["-y", "@modelcontextprotocol/server-postgres",'
     ' "postgresql://u:hunter2@db/x"], "env": {"PGPASSWORD": "hunter2"}}}}',
     [{"name": "pg", "transport": "stdio", "command": "npx", "package": "@modelcontextprotocol/server-postgres",
       "env_keys": ["PGPASSWORD"]}]),
    ("settings.json",          # VS Code: JSONC with comments and trailing commas, servers under mcp
     '{\n // my settings\n "editor.fontSize": 13,\n "mcp": {"servers": {"gh": {"type": "http",'
     ' "url": "https://user:tok@api.example.com:8443/mcp/abc?key=hunter2",},},},\n}',
     [{"name": "gh", "transport": "http", "url_origin": "https://api.example.com:8443"}]),
    ("config.toml",            # Codex CLI
     '[mcp_servers.docs]\ncommand = "uvx"\nargs = ["mcp-server-fetch"]\n'
     '[mcp_servers.docs.env]\nAPI_KEY = "hunter2"\n',
     [{"name": "docs", "transport": "stdio", "command": "uvx", "package": "mcp-server-fetch",
       "env_keys": ["API_KEY"]}]),
    ("config.yaml",            # Continue: a list
     'mcpServers:\n  - name: sqlite\n    command: docker\n    args: [run, -i, --rm, mcp/sqlite]\n',
     [{"name": "sqlite", "transport": "stdio", "command": "docker", "package": "mcp/sqlite"}]),
    ("/home/a/.claude.json",   # Claude Code: per-project servers
     '{"projects": {"/home/a/shop": {"mcpServers": {"s": {"type": "sse", "url": "https://mcp.example.org/sse"}}}}}',
     [{"name": "s", "transport": "sse", "url_origin": "https://mcp.example.org", "workspace": "/home/a/shop"}]),
    ("mcp.json", '{"servers": {"bad": "not an object"}, "mcpServers": []}', []),
    ("mcp.json", "{not json", []),
    ("x.toml", "= broken", []),
]


@pytest.mark.parametrize("path, text, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_servers_are_inventoried_without_secrets(path, text, expected):
    found = mcp.servers(mcp.parse_document(text, path))
    assert found == expected
    assert "hunter2" not in repr(found) and "tok" not in repr(found)


@pytest.mark.parametrize("command, args, package", [
    ("npx", ["-y", "@scope/server@1.2.0"], "@scope/server@1.2.0"),
    ("node", ["/opt/server.js"], None),                       # not a launcher: no package
    ("npx", ["--token=hunter2", "pkg"], "pkg"),
    ("npx", ["https://evil.example/x"], None),
    ("docker", ["run", "-e", "KEY=hunter2", "image:tag"], "image:tag"),
])
def test_package_of_a_launcher(command, args, package):
    assert mcp.package_of(command, args) == package
