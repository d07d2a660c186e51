"""MCP servers in every config format the AI tools use, with what must never be kept:
arguments, env values, URL paths and queries (where tokens live)."""
from __future__ import annotations

import pytest

from shadowmap.agent.discovery import mcp

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
    ("/home/a/.config/opencode/opencode.json",   # OpenCode: a command array, environment
     '{"mcp": {"gh": {"type": "local", "command": ["npx", "-y", "@modelcontextprotocol/server-github"],'
     ' "environment": {"GITHUB_TOKEN": "hunter2"}}, "docs": {"type": "remote", "url": "https://mcp.example.org/mcp?tok=1"},'
     ' "theme": "dark"}}',
     [{"name": "gh", "transport": "stdio", "command": "npx", "package": "@modelcontextprotocol/server-github",
       "env_keys": ["GITHUB_TOKEN"]},
      {"name": "docs", "transport": "http", "url_origin": "https://mcp.example.org"}]),
    ("/home/a/.config/goose/config.yaml",        # Goose: extensions with cmd/envs, builtins left out
     'extensions:\n  github:\n    type: stdio\n    cmd: npx\n    args: [-y, "@modelcontextprotocol/server-github"]\n'
     '    envs: {GITHUB_PERSONAL_ACCESS_TOKEN: hunter2}\n  developer:\n    type: builtin\n    name: developer\n'
     '  remote:\n    type: sse\n    uri: https://mcp.example.org/sse\n',
     [{"name": "github", "transport": "stdio", "command": "npx", "package": "@modelcontextprotocol/server-github",
       "env_keys": ["GITHUB_PERSONAL_ACCESS_TOKEN"]},
      {"name": "remote", "transport": "sse", "url_origin": "https://mcp.example.org"}]),
    ("mcp.json", '{"servers": {"bad": "not an object"}, "mcpServers": []}', []),
    ("mcp.json", "{not json", []),
    ("x.toml", "= broken", []),
]


@pytest.mark.parametrize("path, text, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_servers_are_inventoried_without_secrets(path, text, expected):
    found = mcp.servers(mcp.parse_document(text, path))
    assert found == expected
    assert "hunter2" not in repr(found) and "tok" not in repr(found)


LAUNCHES = [
    # npx / bunx / pnpm / yarn
    ("npx", ["-y", "@scope/server@1.2.0"], "@scope/server@1.2.0"),
    ("/usr/local/bin/npx", ["-y", "@scope/pkg", "--root", "/srv"], "@scope/pkg"),
    ("npx", ["--token=hunter2", "pkg"], "pkg"),
    ("npx", ["https://evil.example/x"], None),
    ("npx", ["--registry", "https://npm.example", "-y", "pkg"], "pkg"),
    ("npx", ["-p", "@scope/cli-pkg", "cli-bin", "serve"], "@scope/cli-pkg"),
    ("npx", ["--package=@scope/cli-pkg", "cli-bin"], "@scope/cli-pkg"),
    ("npx", ["-y", "--", "pkg"], "pkg"),
    ("npx.cmd", ["-y", "pkg"], "pkg"),
    ("bunx", ["--bun", "@scope/pkg"], "@scope/pkg"),
    ("bunx", ["-p", "@scope/pkg", "bin"], "@scope/pkg"),
    ("pnpm", ["dlx", "@scope/pkg"], "@scope/pkg"),
    ("yarn", ["dlx", "-q", "pkg"], "pkg"),
    # uvx / uv / pipx / python
    ("uvx", ["--python", "3.12", "mcp-server-x"], "mcp-server-x"),
    ("uvx", ["--python=3.12", "mcp-server-x"], "mcp-server-x"),
    ("uvx", ["-p", "3.11", "--with", "extra-dep", "mcp-server-x", "--db", "x"], "mcp-server-x"),
    ("uvx", ["--from", "mcp-server-x==1.4", "serve"], "mcp-server-x==1.4"),
    ("uvx", ["--from", "git+https://tok@github.com/a/b", "serve"], "serve"),     # a URL is never kept
    ("uv", ["tool", "run", "--python", "3.12", "mcp-server-x"], "mcp-server-x"),
    ("uv", ["--directory", "/home/a/srv", "run", "server.py"], None),             # a local script
    ("pipx", ["run", "--spec", "mcp-server-x==2.0", "mcp-x"], "mcp-server-x==2.0"),
    ("pipx", ["run", "--python", "python3.12", "mcp-server-x"], "mcp-server-x"),
    ("pipx", ["run", "mcp-server-x"], "mcp-server-x"),
    ("python3", ["-m", "mcp_server_time", "--tz", "UTC"], "mcp_server_time"),
    ("/usr/bin/python3.12", ["-X", "utf8", "-m", "mcp_server_time"], "mcp_server_time"),
    ("python", ["server.py"], None),
    # docker / podman
    ("docker", ["run", "-e", "KEY=hunter2", "image:tag"], "image:tag"),
    ("docker", ["run", "-i", "--rm", "-e", "K=V", "mcp/github"], "mcp/github"),
    ("docker", ["run", "-i", "--rm", "-e", "GITHUB_TOKEN", "ghcr.io/github/github-mcp-server"],
     "ghcr.io/github/github-mcp-server"),                                           # -e NAME: a value
    ("docker", ["run", "-it", "--env=K=V", "-v", "/data:/data", "--network", "host", "mcp/fs:1.0"], "mcp/fs:1.0"),
    ("docker", ["--context", "remote", "container", "run", "--rm", "mcp/time"], "mcp/time"),
    ("podman", ["run", "-i", "--rm", "--name", "srv", "quay.io/acme/mcp"], "quay.io/acme/mcp"),
    # node / deno / Windows cmd
    ("node", ["/opt/server.js"], None),                                             # a local script
    ("node", ["/usr/lib/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/srv"],
     "@modelcontextprotocol/server-filesystem"),
    ("node", ["--env-file", ".env", "C:\\Users\\a\\node_modules\\mcp-x\\index.js"], "mcp-x"),
    ("node", ["path/to/x.js"], None),
    ("deno", ["run", "--allow-net", "npm:@scope/pkg@1"], "npm:@scope/pkg@1"),
    ("cmd", ["/c", "npx", "-y", "@scope/pkg"], "@scope/pkg"),
    ("C:\\Windows\\System32\\cmd.exe", ["/C", "uvx", "--python", "3.12", "mcp-x"], "mcp-x"),
    # not launchers
    ("/opt/bin/my-server", ["--port", "1"], None),
    ("npx", [], None),
    ("docker", ["run", "-e"], None),
]


@pytest.mark.parametrize("command, args, package", LAUNCHES, ids=[" ".join([c, *a])[:60] for c, a, _ in LAUNCHES])
def test_package_of_a_launcher(command, args, package):
    assert mcp.package_of(command, args) == package
