"""Process and app signatures of catalog tools with a desktop app, a CLI or an IDE-side process
(issue 20; the data and each one's source are in detectors/data/catalog/*.yaml). Processes are
laid out as the real products run them: a native binary's name, an npm CLI run by node (its
package path, or node running the bin link npm made), a pip console script run by its
interpreter, a macOS app found by its bundle id. Near misses are the same shapes with other
products' names, generic names the catalog deliberately does not claim, and user files that
merely carry a tool's name."""
from __future__ import annotations

import plistlib
import re
from pathlib import Path

import pytest

from shadowmap.agent.discovery.processes import ProcessMatcher

CATALOG_DIR = Path(__file__).resolve().parents[2] / "detectors" / "data" / "catalog"


def _proc(name: str, exe: str, *args: str) -> dict:
    return {"name": name, "exe": exe, "cmdline": [exe, *args]}


def _node(script: str, *args: str) -> dict:
    """node running a script: how an npm-installed CLI shows in the process table."""
    return {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", script, *args]}


def _python(script: str, *args: str) -> dict:
    """a framework Python running a console script (macOS reports the interpreter's name)."""
    exe = "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12"
    return {"name": "python3.12", "exe": exe, "cmdline": [exe, script, *args]}


@pytest.mark.parametrize(("info", "tool_id", "by"), [
    # native binaries and console scripts, by name
    (_proc("junie", "/home/u/.local/bin/junie"), "jetbrains-ai", "name"),
    (_proc("auggie", "/opt/homebrew/bin/auggie", "--print", "x"), "augment", "name"),
    (_proc("qodo", "/usr/local/bin/qodo", "chat"), "qodo", "name"),
    (_proc("sourcery", "/home/u/.venv/bin/sourcery", "review", "."), "sourcery", "name"),
    (_proc("coderabbit", "/home/u/.local/bin/coderabbit", "review"), "coderabbit", "name"),
    (_proc("warp-terminal", "/usr/bin/warp-terminal"), "warp", "name"),
    (_proc("pieces", "/opt/homebrew/bin/pieces", "ask"), "pieces", "name"),
    (_proc("openhands", "/home/u/.local/bin/openhands"), "openhands", "name"),
    (_proc("droid", "/home/u/.local/bin/droid", "exec", "fix"), "factory", "name"),
    (_proc("droid.exe", "C:\\Users\\u\\bin\\droid.exe"), "factory", "name"),
    (_proc("crewai", "/home/u/.venv/bin/crewai", "run"), "crewai", "name"),
    (_proc("Fathom", "C:\\Users\\u\\AppData\\Local\\Fathom\\Fathom.exe"), "fathom", "name"),
    (_proc("language_server_linux_x64", "/home/u/.codeium/bin/678c22cb/language_server_linux_x64",
           "--api_server_host", "server.codeium.com"), "codeium", "name"),
    (_proc("language_server_windows_x64.exe",
           "C:\\Users\\u\\.codeium\\bin\\678c22cb\\language_server_windows_x64.exe"), "codeium", "name"),
    (_proc("cody", "/usr/local/bin/cody", "chat"), "cody", "name"),
    (_proc("jules", "/usr/local/bin/jules", "remote", "list"), "jules", "name"),
    (_proc("hf", "/home/u/.local/bin/hf", "download", "org/model"), "huggingface", "name"),
    (_proc("sm-agent", "/home/u/.supermaven/binary/v15/linux-x86_64/sm-agent", "stdio"), "supermaven", "name"),
    (_proc("sm-agent.exe", "C:\\Users\\u\\.supermaven\\binary\\v15\\windows-x86_64\\sm-agent.exe"),
     "supermaven", "name"),
    (_proc("cline", "/opt/homebrew/bin/cline", "task"), "cline", "name"),
    (_proc("huggingface-cli", "/home/u/.venv/bin/huggingface-cli", "login"), "huggingface", "name"),
    # npm CLIs: node running the bin link npm made (Linux, macOS) ...
    (_node("/usr/local/bin/auggie"), "augment", "cmdline"),
    (_node("/home/u/.npm-global/bin/qodo", "chat"), "qodo", "cmdline"),
    (_node("/usr/local/bin/junie"), "jetbrains-ai", "cmdline"),
    (_node("/usr/local/bin/cody", "chat", "-m", "hi"), "cody", "cmdline"),
    (_node("/opt/homebrew/bin/jules", "remote", "new"), "jules", "cmdline"),
    (_node("/usr/local/bin/cline", "Add unit tests"), "cline", "cmdline"),
    # ... or the package's own script (npx, Windows' npm shims with backslashes, direct runs)
    (_node("/usr/local/lib/node_modules/@sourcegraph/amp/dist/main.js"), "amp", "cmdline"),
    ({"name": "node.exe", "exe": "C:\\Program Files\\nodejs\\node.exe",
      "cmdline": ["C:\\Program Files\\nodejs\\node.exe",
                  "C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\@augmentcode\\auggie\\dist\\index.js"]},
     "augment", "cmdline"),
    (_node("/usr/lib/node_modules/@continuedev/cli/dist/cn.js", "-p", "x"), "continue", "cmdline"),
    (_node("/usr/lib/node_modules/droid/bin/droid.js"), "factory", "cmdline"),
    (_node("/home/u/.npm/_npx/1a2b/node_modules/@qodo/command/dist/index.js"), "qodo", "cmdline"),
    # pip console scripts as a Python interpreter runs them
    (_python("/Users/u/.local/bin/crewai", "run"), "crewai", "cmdline"),
    (_python("/Users/u/.venv/bin/hf", "auth", "whoami"), "huggingface", "cmdline"),
    (_python("/Users/u/.venv/bin/sourcery", "review", "src"), "sourcery", "cmdline"),
    (_python("/Users/u/.local/share/uv/tools/openhands/bin/openhands"), "openhands", "cmdline"),
    # Warp's Linux binary is called `warp`: its install path names it
    (_proc("warp", "/opt/warpdotdev/warp-terminal/warp"), "warp", "cmdline"),
    # the Kilo CLI's binary `kilo`, where its installer puts it
    (_proc("kilo", "/home/u/.kilo/bin/kilo"), "kilo-code", "cmdline"),
    (_proc("kilo.exe", "C:\\Users\\u\\.kilo\\bin\\kilo.exe", "run"), "kilo-code", "cmdline"),
])
def test_tools_are_named_by_their_processes(catalog, info, tool_id, by):
    hit = ProcessMatcher(catalog).match(info)
    assert hit is not None and hit[:2] == (tool_id, by)


@pytest.mark.parametrize("info", [
    # `amp` is also Amplitude's CLI and an unrelated editor: neither is Sourcegraph's Amp
    _proc("amp", "/usr/local/bin/amp", "help"),
    _node("/usr/local/bin/amp", "version"),
    _node("/usr/local/lib/node_modules/@amplitude/developer-cli/dist/index.js"),
    # short aliases and generic names the catalog leaves unclaimed
    _proc("cr", "/home/u/.local/bin/cr", "review"),
    _proc("cn", "/usr/local/bin/cn"),
    _proc("warp", "/usr/local/bin/warp", "build"),
    _proc("language_server", "/usr/lib/jvm/bin/language_server"),
    # JetBrains IDEs run whether or not their AI is used: not claimed
    _proc("idea64", "/opt/idea/bin/idea64"),
    _proc("pycharm", "/opt/pycharm/bin/pycharm"),
    # the tools' names inside user files and folders, not as the program run
    _proc("vim", "/usr/bin/vim", "/home/u/notes/jules"),
    _node("/home/u/auggie-notes/index.js"),
    _node("/home/u/src/cody-site/server.js"),
    _python("/Users/u/project/crewai_helpers.py"),
    _python("/Users/u/bin/hf_sync.py"),
    _proc("less", "/usr/bin/less", "/var/log/openhands"),
    _proc("pieces-of-eight", "/usr/games/pieces-of-eight"),
    _proc("droidcam", "/usr/bin/droidcam"),
    # `kilo` is also antirez's small editor; an old npm library called cline ships inside other tools
    _proc("kilo", "/usr/local/bin/kilo", "notes.txt"),
    _node("/srv/app/node_modules/cline/index.js"),
    _proc("sm-agent-wrapper", "/usr/local/bin/sm-agent-wrapper"),
])
def test_near_misses_are_not_these_tools(catalog, info):
    assert ProcessMatcher(catalog).match(info) is None


def _mac_app(root: Path, app: str, executable: str, bundle_id: str, version: str) -> str:
    contents = root / "Applications" / f"{app}.app" / "Contents"
    (contents / "MacOS").mkdir(parents=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleIdentifier": bundle_id,
                                                          "CFBundleShortVersionString": version}))
    exe = contents / "MacOS" / executable
    exe.write_text("")
    return str(exe)


@pytest.mark.parametrize(("app", "executable", "bundle_id", "tool_id"), [
    ("Warp", "Warp", "dev.warp.Warp-Stable", "warp"),
    ("Trae", "Electron", "com.trae.app", "trae"),           # an Electron main: its name says nothing
    ("Pieces OS", "Pieces OS", "com.pieces.os", "pieces"),
    ("Pieces", "Pieces", "com.pieces.x", "pieces"),
    ("Grammarly Desktop", "Grammarly Desktop", "com.grammarly.ProjectLlama", "grammarly"),
    ("Granola", "Granola", "com.granola.app", "granola"),
    ("Descript", "Descript", "com.descript.beachcube", "descript"),
    ("Poe", "Poe", "com.quora.poe.electron", "poe"),
    ("DeepL", "DeepL", "com.linguee.DeepLCopyTranslator", "deepl"),
    ("Amazon Q", "Amazon Q", "com.amazon.codewhisperer", "amazon-q-developer"),
    ("Kimi", "Kimi", "com.moonshot.kimichat", "kimi"),
    ("doubao", "doubao", "com.bot.pc.doubao", "doubao"),
    ("Manus", "Manus", "im.manus.desktop", "manus"),
    ("Microsoft 365 Copilot", "Microsoft 365 Copilot", "com.microsoft.m365copilot", "m365-copilot"),
    ("Perplexity", "Perplexity", "ai.perplexity.macv3", "perplexity"),
])
def test_mac_apps_by_bundle_id(tmp_path, catalog, app, executable, bundle_id, tool_id):
    exe = _mac_app(tmp_path, app, executable, bundle_id, "1.2.3")
    hit = ProcessMatcher(catalog).match({"name": executable, "exe": exe, "cmdline": [exe]})
    assert hit == (tool_id, "bundle_id", "1.2.3")


def test_an_unknown_bundle_with_a_known_looking_name_is_not_matched(tmp_path, catalog):
    exe = _mac_app(tmp_path, "Warp Drive", "Electron", "com.example.warpdrive", "1.0")
    assert ProcessMatcher(catalog).match({"name": "Electron", "exe": exe, "cmdline": [exe]}) is None


_FLOW_TOOL = re.compile(r"^  - \{id: ([a-z0-9-]+),")
_SIGNATURE_KEYS = ("process_names:", "bundle_ids:", "cmdline_patterns:", "local_ports:")


def _flow_style_tools_with_signatures(path: Path) -> list[tuple[str, str]]:
    """(tool id, the comment lines just above it) of each one-entry-a-line tool carrying a signature."""
    lines = path.read_text("utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        match = _FLOW_TOOL.match(line)
        if not match:
            continue
        entry = [line]
        j = i
        while "}" not in lines[j] and j + 1 < len(lines):
            j += 1
            entry.append(lines[j])
        if not any(key in part for part in entry for key in _SIGNATURE_KEYS):
            continue
        k, comments = i - 1, []
        while k >= 0 and lines[k].lstrip().startswith("#"):
            comments.insert(0, lines[k])
            k -= 1
        found.append((match.group(1), "\n".join(comments)))
    return found


@pytest.mark.parametrize("name", ["coding.yaml", "media_productivity.yaml", "runtimes.yaml",
                                  "assistants.yaml", "builders.yaml", "platforms.yaml"])
def test_every_signature_in_the_flow_style_files_states_its_source(name):
    for tool_id, comments in _flow_style_tools_with_signatures(CATALOG_DIR / name):
        assert comments, f"{name}: {tool_id} has process signatures but no comment naming their source"
        assert re.search(r"[a-z0-9-]+\.[a-z]{2,}|[A-Za-z0-9-]+/[A-Za-z0-9._-]+", comments), \
            f"{name}: {tool_id}'s comment names no URL or repository path"
