"""Drift from Codex's requirements.toml and VS Code's enterprise policies, on a fake root and home
laid out like the real products: the real discovery source reads the files and each drift comes
with its rule; near misses (allowed values, a disabled server, Cursor's files, system defaults
that are not requirements, a "registry" MCP policy) raise nothing. Every event is checked
against the contract."""
from __future__ import annotations

import base64
import json
import plistlib
import uuid

from shadowmap import contract
from shadowmap.agent.config import load_config
from shadowmap.agent.discovery import managed_codex, managed_drift, managed_vscode
from shadowmap.agent.discovery.service import Discovery

DRIFT = "managed_settings_drift"

REQUIREMENTS = """
allowed_approval_policies = ["untrusted", "on-request"]
allowed_sandbox_modes = ["read-only", "workspace-write"]

[mcp_servers.docs.identity]
command = "docs-mcp"

[mcp_servers.tracker.identity]
url = "https://mcp.acme.example/mcp"

[mcp_servers.github.identity]
command = "github-mcp-server"
"""

USER_CODEX = """
approval_policy = "never"
sandbox_mode = "workspace-write"

[profiles.ci]
sandbox_mode = "danger-full-access"
approval_policy = "on-request"

[mcp_servers.docs]
command = "docs-mcp"

[mcp_servers.tracker]
url = "https://mcp.acme.example/other"

[mcp_servers.github]
command = "npx"
args = ["-y", "github-mcp-server"]

[mcp_servers.notes]
command = "node"
args = ["/opt/notes/index.js"]

[mcp_servers.old]
command = "old-mcp"
enabled = false
"""


def discovery_of(tmp_path, catalog, home, root):
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", mode="user",
                         env={"SHADOWMAP_AGENT_CONFIG": ""})
    found = Discovery(config, catalog, user="agent", org_key=lambda: b"k" * 32, homes=[("dana", home)],
                      resolver=lambda h: [], ports={})
    found.managed_root = root
    return found


def drift_by_server(found) -> dict[str, str | None]:
    return {o.data["name"]: {r["flag"]: r["evidence"] for r in o.data.get("risks", ())}.get(DRIFT)
            for o in found if o.event_type == "mcp_server.observed"}


def drift_by_path(found) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in found:
        if o.event_type == "ai_config.risk":
            out[o.data["path"]] = sorted(r["evidence"] for r in o.data["risks"] if r["flag"] == DRIFT)
    return {path: evidence for path, evidence in out.items() if evidence}


def check_contract(found):
    for o in found:
        contract.validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": o.event_type,
                                 "device_id": "d1", "user": "dana", "ts": "2026-12-07T10:00:00Z", "data": o.data})


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_codex_configs_that_ask_for_what_requirements_toml_forbids(tmp_path, catalog):
    root, home = tmp_path / "root", tmp_path / "home" / "dana"
    write(root / "etc" / "codex" / "requirements.toml", REQUIREMENTS)
    write(home / ".codex" / "config.toml", USER_CODEX)
    write(home / ".claude.json", json.dumps({"mcpServers": {"notes": {"command": "node"}}}))   # not Codex's
    discovery = discovery_of(tmp_path, catalog, home, root)
    found = discovery.config_files()
    check_contract(found)

    assert drift_by_server(found) == {
        "docs": None,                                        # listed, same command
        "tracker": "server 'tracker' is in the managed mcp_servers allowlist, but its url differs from the "
                   "approved one (Codex disables it)",
        "github": "server 'github' is in the managed mcp_servers allowlist, but its command differs from the "
                  "approved one (Codex disables it)",    # npx running the package is not the approved binary
        "notes": "server 'notes' is not in the managed requirements' mcp_servers allowlist (Codex disables it)",
        "old": None,                                         # switched off by the user: nothing runs
    }
    # Claude Code's server of the same name is judged by Claude Code's managed settings (none here)
    claude = [o for o in found if o.event_type == "mcp_server.observed" and o.data["config_path"].endswith(".claude.json")]
    assert [r for o in claude for r in o.data.get("risks", ()) if r["flag"] == DRIFT] == []
    assert drift_by_path(found) == {str(home / ".codex" / "config.toml"): [
        "approval_policy is never while the managed requirements allow only untrusted, on-request",
        "profiles.ci.sandbox_mode is danger-full-access while the managed requirements allow only read-only, "
        "workspace-write"]}


def test_codex_defaults_that_are_not_requirements_raise_nothing(tmp_path, catalog):
    root, home = tmp_path / "root", tmp_path / "home" / "dana"
    # /etc/codex/config.toml holds defaults a user may override; managed_config.toml is the legacy
    # defaults file: neither is requirements.toml
    write(root / "etc" / "codex" / "config.toml", 'approval_policy = "on-request"\n')
    write(root / "etc" / "codex" / "managed_config.toml", 'approval_policy = "on-request"\n')
    write(home / ".codex" / "config.toml", USER_CODEX)
    found = discovery_of(tmp_path, catalog, home, root).config_files()
    assert DRIFT not in json.dumps([o.data for o in found])
    assert managed_drift.load("linux", root) is None


def test_codex_requirements_on_macos_mdm_win_per_field_over_the_system_file(tmp_path):
    root = tmp_path / "root"
    write(root / "etc" / "codex" / "requirements.toml",
          'allowed_approval_policies = ["never", "on-request"]\nallowed_sandbox_modes = ["read-only"]\n')
    mdm = root / "Library" / "Managed Preferences" / "com.openai.codex.plist"
    mdm.parent.mkdir(parents=True)
    encoded = base64.b64encode(b'allowed_approval_policies = ["on-request"]\n').decode()
    mdm.write_bytes(plistlib.dumps({"requirements_toml_base64": encoded}))
    required = managed_codex.load("darwin", root)
    assert required is not None
    assert dict(required.allowed) == {"approval_policy": ("on-request",), "sandbox_mode": ("read-only",)}
    assert required.mcp_servers is None                      # no allowlist: every server may run
    assert [r.evidence for r in managed_codex.settings_drift(required, {"approval_policy": "never"})] == [
        "approval_policy is never while the managed requirements allow only on-request"]
    assert managed_codex.server_drift(required, {"command": "anything"}, "any") is None
    # an MDM payload under another key, or not base64 TOML, is no requirement: the file alone counts
    for payload in ({"config_toml_base64": encoded}, {"requirements_toml_base64": "%%% not base64"},
                    {"requirements_toml_base64": base64.b64encode(b"[[[ not toml").decode()}):
        mdm.write_bytes(plistlib.dumps(payload))
        assert dict(managed_codex.load("darwin", root).allowed)["approval_policy"] == ("never", "on-request")
    # Linux does not read macOS managed preferences
    write(root / "etc" / "codex" / "requirements.toml", "")
    mdm.write_bytes(plistlib.dumps({"requirements_toml_base64": encoded}))
    assert managed_codex.load("linux", root) is None


def test_codex_requirements_on_windows_live_under_program_data(tmp_path):
    root = tmp_path / "root"
    write(root / "D:" / "Data" / "OpenAI" / "Codex" / "requirements.toml", 'allowed_sandbox_modes = ["read-only"]\n')
    assert managed_codex.load("win32", root, env={"ProgramData": "C:/ProgramData"}) is None
    required = managed_codex.load("win32", root, env={"ProgramData": "D:\\Data"})
    assert required is not None and dict(required.allowed) == {"sandbox_mode": ("read-only",)}
    # a project's .codex/config.toml is governed too; a look-alike file name is not
    assert managed_codex.applies("C:\\Users\\dana\\src\\shop\\.codex\\config.toml")
    assert not managed_codex.applies("/home/dana/.codex/config.toml.bak")
    assert not managed_codex.applies("/home/dana/codex/config.toml")


def test_vscode_policies_forbid_mcp_servers_and_global_auto_approve(tmp_path, catalog):
    root, home = tmp_path / "root", tmp_path / "home" / "dana"
    write(root / "etc" / "vscode" / "policy.json", json.dumps({"ChatMCP": "none", "ChatToolsAutoApprove": False}))
    user = home / ".config" / "Code" / "User"
    write(user / "mcp.json", json.dumps({"servers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}}}))
    write(user / "settings.json", json.dumps({"chat.tools.global.autoApprove": True, "editor.fontSize": 13}))
    # Cursor keeps its own files: VS Code's policies do not govern them
    write(home / ".cursor" / "mcp.json", json.dumps({"mcpServers": {"linear": {"url": "https://mcp.linear.app/sse"}}}))
    write(home / ".config" / "Cursor" / "User" / "settings.json", json.dumps({"chat.tools.global.autoApprove": True}))
    discovery = discovery_of(tmp_path, catalog, home, root)
    found = discovery.config_files()
    check_contract(found)
    assert drift_by_server(found) == {
        "github": "server 'github' is configured while the VS Code policy ChatMCP (chat.mcp.access) is 'none': "
                  "no MCP server runs",
        "linear": None}
    assert drift_by_path(found) == {str(user / "settings.json"): [
        "chat.tools.global.autoApprove is true while the VS Code policy ChatToolsAutoApprove forbids global auto approve"]}

    # policies that allow what the user asks: no drift ("registry" cannot be judged from a file)
    write(root / "etc" / "vscode" / "policy.json", json.dumps({"ChatMCP": "registry", "ChatToolsAutoApprove": True}))
    assert DRIFT not in json.dumps([o.data for o in discovery.config_files()])


def test_vscode_policies_from_the_windows_registry_as_data(tmp_path):
    asked: list[str] = []

    def registry(key: str):
        asked.append(key)
        return {"values": {"ChatMCP": "none", "ChatToolsAutoApprove": 0, "UpdateMode": "start"}, "keys": {}}

    policies = managed_vscode.load("win32", read_registry=registry)
    assert asked == ["Software\\Policies\\Microsoft\\VSCode"]
    assert policies is not None and dict(policies.values) == {"ChatMCP": "none", "ChatToolsAutoApprove": 0}
    assert [r.flag for r in managed_vscode.settings_drift(policies, {"chat": {"tools": {"global": {"autoApprove": True}}}})] == [DRIFT]
    # a DWORD 1 allows it; an absent key means no policies
    allowing = managed_vscode.load("win32", read_registry=lambda key: {"values": {"ChatToolsAutoApprove": 1}})
    assert allowing is not None and managed_vscode.settings_drift(allowing, {"chat.tools.global.autoApprove": True}) == []
    assert managed_vscode.load("win32", read_registry=lambda key: None) is None
    bundle = managed_drift.load("win32", tmp_path / "empty-root", env={}, read_registry=registry)
    assert bundle is not None and bundle.vscode == policies and bundle.codex is None and bundle.claude is None


def test_github_copilots_managed_settings_file_governs_vscode_configs(tmp_path, catalog):
    root, home = tmp_path / "root", tmp_path / "home" / "dana"
    write(root / "etc" / "github-copilot" / "managed-settings.json", json.dumps({
        "permissions": {"disableBypassPermissionsMode": "disable"},
        "allowedMcpServers": [{"serverUrl": "https://api.githubcopilot.com/*"},
                              {"serverCommand": ["npx", "@playwright/mcp@0.0.41"]}],
        "deniedMcpServers": [{"serverCommand": ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/"]}]}))
    user = home / ".config" / "Code" / "User"
    write(user / "mcp.json", json.dumps({"servers": {
        "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},
        "playwright": {"command": "npx", "args": ["@playwright/mcp@0.0.41"]},
        "playwright-latest": {"command": "npx", "args": ["@playwright/mcp@latest"]},       # near miss: other args
        "disk": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/"]}}}))
    write(user / "settings.json", json.dumps({"chat": {"tools": {"global": {"autoApprove": True}}}}))
    # Claude Code's configs are not Copilot's: the same server there raises nothing
    write(home / ".claude.json", json.dumps({"mcpServers": {"disk": {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/"]}}}))
    found = discovery_of(tmp_path, catalog, home, root).config_files()
    check_contract(found)
    servers = {o.data["name"] + ("@claude" if o.data["config_path"].endswith(".claude.json") else ""):
               {r["flag"]: r["evidence"] for r in o.data.get("risks", ())}.get(DRIFT)
               for o in found if o.event_type == "mcp_server.observed"}
    assert servers == {
        "github": None, "playwright": None,
        "playwright-latest": "server 'playwright-latest' is not in GitHub Copilot's managed allowedMcpServers",
        "disk": "server 'disk' is denied by GitHub Copilot's managed deniedMcpServers (its exact serverCommand)",
        "disk@claude": None}
    assert drift_by_path(found) == {str(user / "settings.json"): [
        "chat.tools.global.autoApprove is true while GitHub Copilot's managed settings disable bypass "
        "(permissions.disableBypassPermissionsMode)"]}
    # on Windows the file lives under %ProgramFiles%; a top-level disableBypassPermissionsMode is
    # Claude Code's spelling, not Copilot's
    write(root / "E:" / "Apps" / "GitHubCopilot" / "managed-settings.json",
          json.dumps({"disableBypassPermissionsMode": "disable", "deniedMcpServers": [{"serverName": "x"}]}))
    copilot = managed_drift.load_copilot("win32", root, env={"ProgramFiles": "E:\\Apps"})
    assert copilot is not None and copilot.denied == ({"serverName": "x"},) and copilot.bypass_disabled is False
    assert managed_drift.load_copilot("win32", root, env={}) is None


def test_vscode_policies_from_macos_managed_preferences(tmp_path):
    root = tmp_path / "root"
    prefs = root / "Library" / "Managed Preferences" / "com.microsoft.VSCode.plist"
    prefs.parent.mkdir(parents=True)
    prefs.write_bytes(plistlib.dumps({"ChatMCP": "none", "AllowedExtensions": "{\"microsoft\": true}"}))
    write(root / "etc" / "vscode" / "policy.json", json.dumps({"ChatToolsAutoApprove": False}))
    policies = managed_vscode.load("darwin", root)
    assert policies is not None and dict(policies.values) == {"ChatMCP": "none"}     # the Linux file is not macOS's
    assert managed_vscode.server_drift(policies, "any") is not None
    assert dict(managed_vscode.load("linux", root).values) == {"ChatToolsAutoApprove": False}
    # a policy file that is not a document of policies is none
    prefs.write_bytes(b"not a plist")
    assert managed_vscode.load("darwin", root) is None


def test_a_running_codexs_command_line_against_the_requirements():
    required = managed_codex.CodexRequirements.of(
        {"allowed_approval_policies": ["untrusted", "on-request"], "allowed_sandbox_modes": ["read-only", "workspace-write"]})
    assert required is not None

    def drift(*argv: str) -> list[str]:
        return [r.evidence for r in managed_codex.command_line_drift(required, ["codex", *argv])]

    assert drift("--yolo") == [
        "codex runs with --yolo (approval_policy never) while the managed requirements allow only untrusted, on-request",
        "codex runs with --yolo (sandbox_mode danger-full-access) while the managed requirements allow only "
        "read-only, workspace-write"]
    assert drift("exec", "-c", 'approval_policy="never"', "-m", "o3") == [
        "codex runs with -c approval_policy (approval_policy never) while the managed requirements allow only "
        "untrusted, on-request"]
    assert drift("--sandbox=danger-full-access") == [
        "codex runs with --sandbox (sandbox_mode danger-full-access) while the managed requirements allow only "
        "read-only, workspace-write"]
    # a value that is no documented one is not quoted back
    assert drift("-c", "approval_policy=ghp_R8x2Lq9ZtW4vN7mK3pB6") == [
        "codex runs with -c approval_policy (approval_policy another value) while the managed requirements allow "
        "only untrusted, on-request"]
    # near misses: allowed values, other -c keys, a prompt that mentions a flag
    assert drift("exec", "-a", "on-request", "--sandbox", "workspace-write", "--full-auto", "fix the tests") == []
    assert drift("-c", "model_reasoning_effort=high", "explain --yolo to me") == []
    only_read = managed_codex.CodexRequirements.of({"allowed_sandbox_modes": ["read-only"]})
    assert [r.evidence for r in managed_codex.command_line_drift(only_read, ["codex", "--full-auto"])] == [
        "codex runs with --full-auto (sandbox_mode workspace-write) while the managed requirements allow only read-only"]
