"""Process names match in their exact case (issue 20). A name in another case is another
program: Copilot Money, a macOS budgeting app, runs as `Copilot` and is not GitHub Copilot,
whose CLI is `copilot`; Claude Code's `claude` is not the Claude app. The Linux builds that
name their executable in lowercase (`cursor`, `windsurf`, `kiro`) are listed beside the
macOS and Windows name, each with its source in detectors/data/catalog/core.yaml; a bare
word too common to claim (`jan`, `chat`) or another program's name (Brim's `zed`) is left to the
tool's other signatures."""
from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from shadowmap.agent.discovery.processes import ProcessMatcher
from shadowmap.detectors.catalog import parse_catalog


def _mac_app(root: Path, app: str, executable: str, bundle_id: str) -> str:
    contents = root / "Applications" / f"{app}.app" / "Contents"
    (contents / "MacOS").mkdir(parents=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleIdentifier": bundle_id,
                                                          "CFBundleShortVersionString": "3.5.9"}))
    exe = contents / "MacOS" / executable
    exe.write_text("")
    return str(exe)


def _proc(name: str, exe: str, *args: str) -> dict:
    return {"name": name, "exe": exe, "cmdline": [exe, *args]}


def test_copilot_money_is_not_github_copilot(tmp_path, catalog):
    # Homebrew/homebrew-cask Casks/c/copilot.rb: app "Copilot.app", containers com.copilot.production
    exe = _mac_app(tmp_path, "Copilot", "Copilot", "com.copilot.production")
    assert ProcessMatcher(catalog).match({"name": "Copilot", "exe": exe, "cmdline": [exe]}) is None
    assert catalog.match_process("Copilot") is None
    assert catalog.match_process("/Applications/Copilot.app/Contents/MacOS/Copilot") is None


@pytest.mark.parametrize("info", [
    _proc("copilot", "/opt/homebrew/bin/copilot"),
    _proc("copilot", "/home/u/.local/bin/copilot", "--resume"),
    _proc("copilot.exe", "C:\\Users\\u\\AppData\\Local\\Programs\\copilot\\copilot.exe"),
])
def test_the_copilot_cli_still_is_github_copilot(catalog, info):
    assert ProcessMatcher(catalog).match(info) == ("github-copilot", "name", None)


@pytest.mark.parametrize(("info", "tool_id"), [
    # Linux: the extracted AppImage's usr/share/cursor/cursor, and the tarballs' lowercase binaries
    (_proc("cursor", "/tmp/.mount_CursorAbc123/usr/share/cursor/cursor", "--no-sandbox"), "cursor"),
    (_proc("cursor", "/opt/cursor/usr/share/cursor/cursor"), "cursor"),
    (_proc("windsurf", "/usr/share/windsurf/windsurf"), "windsurf"),
    (_proc("kiro", "/opt/Kiro/kiro"), "kiro"),
    # Windows and macOS: the capitalised executable
    (_proc("Cursor.exe", "C:\\Users\\u\\AppData\\Local\\Programs\\cursor\\Cursor.exe"), "cursor"),
    (_proc("Windsurf.exe", "C:\\Users\\u\\AppData\\Local\\Programs\\Windsurf\\Windsurf.exe"), "windsurf"),
    (_proc("Kiro.exe", "C:\\Users\\u\\AppData\\Local\\Programs\\Kiro\\Kiro.exe"), "kiro"),
    (_proc("Claude.exe", "C:\\Users\\u\\AppData\\Local\\AnthropicClaude\\Claude.exe"), "claude"),
    (_proc("claude", "/home/u/.local/bin/claude", "-p", "x"), "claude-code"),
])
def test_each_platform_spelling_is_listed(catalog, info, tool_id):
    assert ProcessMatcher(catalog).match(info) == (tool_id, "name", None)


@pytest.mark.parametrize("name", [
    "Copilot", "COPILOT", "CURSOR", "cUrsor", "WINDSURF", "KIRO", "CLAUDE",
    "chatgpt", "perplexity", "lm studio", "Tabnine", "tabnine",
    "jan",          # Jan's Linux launcher name: a common word, not claimed (port 1337 signs Jan)
    "Coderabbit", "Ollama app",
])
def test_a_name_in_another_case_is_not_claimed(catalog, name):
    assert catalog.match_process(name) is None
    assert ProcessMatcher(catalog).match({"name": name, "exe": None, "cmdline": [name]}) is None


@pytest.mark.parametrize("info", [
    # Brim's data-lake CLI `zed` (brimdata/zed), which the fallback took for the Zed editor's `Zed`
    _proc("zed", "/usr/local/bin/zed", "query", "from pool"),
    # GPT4All built from source on Linux runs as bin/chat: too common a word to claim
    _proc("chat", "/usr/local/bin/chat"),
])
def test_other_programs_with_a_catalog_name_in_another_case(catalog, info):
    assert ProcessMatcher(catalog).match(info) is None


def test_no_name_is_guessed_from_another_tools_case():
    # a catalog with only "Acme" knows nothing of "acme", even when nothing else claims it
    catalog = parse_catalog({"version": 1, "tools": [
        {"id": "acme", "name": "Acme", "vendor": "A", "category": "chat", "domains": ["acme.example"],
         "process_names": ["Acme"]},
        {"id": "tool", "name": "Tool", "vendor": "T", "category": "coding", "domains": ["tool.example"],
         "process_names": ["tool", "Tool"]}]})
    assert catalog.match_process("Acme").id == "acme"
    assert catalog.match_process("Acme.exe").id == "acme"
    assert catalog.match_process("Acme.EXE").id == "acme"
    assert catalog.match_process("acme") is None
    assert catalog.match_process("tool").id == catalog.match_process("Tool").id == "tool"
    assert catalog.match_process("TOOL") is None
