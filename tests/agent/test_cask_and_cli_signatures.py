"""Signatures added from Homebrew casks and vendors' CLI docs for tools that had none (issue 20;
each one's source is in the comment above its entry in detectors/data/catalog/*.yaml): macOS
apps by bundle id, CLIs and editor-plugin binaries by name or command line. Near misses are
the casks that share a tool's name but are other products, and the generic names left unclaimed."""
from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from shadowmap.agent.discovery.processes import ProcessMatcher


def _mac_app(root: Path, app: str, executable: str, bundle_id: str) -> str:
    contents = root / "Applications" / f"{app}.app" / "Contents"
    (contents / "MacOS").mkdir(parents=True)
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleIdentifier": bundle_id,
                                                          "CFBundleShortVersionString": "2.0.1"}))
    exe = contents / "MacOS" / executable
    exe.write_text("")
    return str(exe)


@pytest.mark.parametrize(("app", "executable", "bundle_id", "tool_id"), [
    ("Gemini", "Gemini", "com.google.GeminiMacOS", "gemini"),
    ("Glean", "Glean", "com.glean.desktop", "glean"),
    ("智谱清言", "智谱清言", "com.zhipu.chatglm", "chatglm"),
    ("腾讯元宝", "腾讯元宝", "com.tencent.yuanbao", "yuanbao"),
    ("Qianwen", "Qianwen", "com.alibaba.tongyi", "qwen"),
    ("Runway", "Runway", "com.runwayai.runway", "runway"),
    ("Groq Desktop", "Groq Desktop", "com.groq.desktop", "groq"),
])
def test_mac_apps_by_bundle_id(tmp_path, catalog, app, executable, bundle_id, tool_id):
    exe = _mac_app(tmp_path, app, executable, bundle_id)
    assert ProcessMatcher(catalog).match({"name": executable, "exe": exe, "cmdline": [exe]}) == \
        (tool_id, "bundle_id", "2.0.1")


@pytest.mark.parametrize(("app", "executable", "bundle_id"), [
    ("Gemini 2", "Gemini 2", "com.macpaw.site.Gemini2"),       # MacPaw's duplicate finder (cask "gemini")
    ("Jasper", "Jasper", "io.jasperapp"),                       # a GitHub issue reader (cask "jasper")
    ("Writer", "Writer", "de.HendrikNoeller.Writer"),           # a screenwriting app (cask "writer")
    ("Tabby", "Tabby", "org.tabby"),                            # the terminal (cask "tabby")
    ("Pika", "Pika", "com.superhighfives.Pika"),                # a colour picker (cask "pika")
    ("Synthesia", "Synthesia", "com.synthesiallc.synthesia"),   # a piano game (cask "synthesia")
])
def test_same_named_apps_of_other_vendors_are_not_matched(tmp_path, catalog, app, executable, bundle_id):
    exe = _mac_app(tmp_path, app, executable, bundle_id)
    assert ProcessMatcher(catalog).match({"name": executable, "exe": exe, "cmdline": [exe]}) is None


@pytest.mark.parametrize(("info", "tool_id", "by"), [
    ({"name": "bito", "exe": "/usr/local/bin/bito", "cmdline": ["bito"]}, "bito", "name"),
    ({"name": "refact-lsp", "exe": "/home/u/.vscode/extensions/smallcloud.codify-6.1.0/assets/refact-lsp",
      "cmdline": ["refact-lsp", "--address-url", "Refact", "--http-port", "8001"]}, "refact", "name"),
    ({"name": "refact-lsp.exe", "exe": "C:\\Users\\u\\.vscode\\extensions\\smallcloud.codify\\refact-lsp.exe",
      "cmdline": ["refact-lsp.exe"]}, "refact", "name"),
    ({"name": "tabby", "exe": "/opt/homebrew/bin/tabby",
      "cmdline": ["/opt/homebrew/bin/tabby", "serve", "--device", "metal", "--model", "StarCoder-1B"]},
     "tabby-cloud", "cmdline"),
    ({"name": "tabby", "exe": "/opt/tabby/bin/tabby",
      "cmdline": ["/opt/tabby/bin/tabby", "serve", "--model", "TabbyML/StarCoder-1B", "--device", "cuda"]},
     "tabby-cloud", "cmdline"),
    # API platforms' CLIs
    ({"name": "firectl", "exe": "/usr/local/bin/firectl", "cmdline": ["firectl", "signin"]}, "fireworks", "name"),
    ({"name": "firectl.exe", "exe": "C:\\Tools\\firectl.exe", "cmdline": ["firectl.exe"]}, "fireworks", "name"),
    ({"name": "replicate", "exe": "/opt/homebrew/bin/replicate", "cmdline": ["replicate", "run", "m"]},
     "replicate", "name"),
    ({"name": "truss", "exe": "/home/u/.venv/bin/truss", "cmdline": ["truss", "push"]}, "baseten", "name"),
    ({"name": "python3.11", "exe": "/usr/bin/python3.11",
      "cmdline": ["/usr/bin/python3.11", "/Users/u/.venv/bin/truss", "push"]}, "baseten", "cmdline"),
    ({"name": "together", "exe": "/home/u/.local/bin/together", "cmdline": ["together", "files", "list"]},
     "together", "name"),
    ({"name": "python3", "exe": "/usr/bin/python3",
      "cmdline": ["/home/u/.local/share/uv/tools/together/bin/python3", "/home/u/.local/bin/tg", "endpoints"]},
     "together", "cmdline"),
    ({"name": "Groq Desktop.exe", "exe": "C:\\Users\\u\\AppData\\Local\\Programs\\groq-desktop-app\\Groq Desktop.exe",
      "cmdline": ["Groq Desktop.exe"]}, "groq", "name"),
    ({"name": "elevenlabs", "exe": "/opt/homebrew/bin/elevenlabs", "cmdline": ["elevenlabs", "agents", "push"]},
     "elevenlabs", "name"),
    ({"name": "node", "exe": "/usr/bin/node",
      "cmdline": ["node", "/usr/lib/node_modules/@elevenlabs/cli/dist/index.js", "auth", "login"]},
     "elevenlabs", "cmdline"),
    ({"name": "node", "exe": "/usr/bin/node",
      "cmdline": ["node", "/usr/local/lib/node_modules/@blackboxai/cli/dist/index.js", "session"]},
     "blackbox", "cmdline"),
    ({"name": "greptile", "exe": "/opt/homebrew/bin/greptile", "cmdline": ["greptile", "review"]}, "greptile", "name"),
    ({"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/home/u/.greptile/bin/greptile.js", "review"]},
     "greptile", "cmdline"),
    ({"name": "voiceflow", "exe": "/usr/local/bin/voiceflow", "cmdline": ["voiceflow", "kb", "upload"]},
     "voiceflow", "name"),
    ({"name": "openai", "exe": "/home/u/.venv/bin/openai", "cmdline": ["openai", "api", "models.list"]},
     "openai-platform", "name"),
    ({"name": "python3.12", "exe": "/usr/bin/python3.12",
      "cmdline": ["/usr/bin/python3.12", "/Users/u/.venv/bin/openai", "api", "chat.completions.create"]},
     "openai-platform", "cmdline"),
    ({"name": "node", "exe": "/usr/bin/node",
      "cmdline": ["node", "/usr/lib/node_modules/@botpress/cli/dist/index.js", "deploy"]}, "botpress", "cmdline"),
    ({"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/home/u/.roo/cli/bin/roo", "-P", "fix it"]},
     "roo-code", "cmdline"),
    ({"name": "langsmith", "exe": "/home/u/.local/bin/langsmith", "cmdline": ["langsmith", "trace", "list"]},
     "langsmith", "name"),
    ({"name": "vibe", "exe": "/home/u/.local/share/uv/tools/mistral-vibe/bin/python",
      "cmdline": ["/home/u/.local/share/uv/tools/mistral-vibe/bin/python", "/home/u/.local/bin/vibe"]},
     "mistral-console", "cmdline"),
    ({"name": "vibe-acp", "exe": "/home/u/.local/bin/vibe-acp", "cmdline": ["vibe-acp"]}, "mistral-console", "name"),
    ({"name": "node", "exe": "/usr/bin/node",
      "cmdline": ["node", "/home/u/.npm/_npx/77aa/node_modules/v0/dist/index.js", "add", "a1B2c3d4"]}, "v0", "cmdline"),
    ({"name": "jina", "exe": "/home/u/.local/bin/jina", "cmdline": ["jina", "read", "https://example.com"]},
     "jina", "name"),
    # MCP servers from npm, run by node
    ({"name": "node", "exe": "/usr/bin/node",
      "cmdline": ["node", "/home/u/.npm/_npx/9f1c/node_modules/tavily-mcp/build/index.js"]}, "tavily", "cmdline"),
    ({"name": "node", "exe": "/usr/local/bin/node", "cmdline": ["node", "/usr/local/bin/tavily-mcp"]},
     "tavily", "cmdline"),
    ({"name": "node.exe", "exe": "C:\\Program Files\\nodejs\\node.exe",
      "cmdline": ["C:\\Program Files\\nodejs\\node.exe",
                  "C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\exa-mcp-server\\build\\index.js"]},
     "exa", "cmdline"),
])
def test_clis_by_name_or_command_line(catalog, info, tool_id, by):
    hit = ProcessMatcher(catalog).match(info)
    assert hit is not None and hit[:2] == (tool_id, by)


@pytest.mark.parametrize("info", [
    # the Tabby terminal, and tabby run other than as a server
    {"name": "tabby", "exe": "/Applications/Tabby.app/Contents/MacOS/Tabby", "cmdline": ["Tabby"]},
    {"name": "tabby", "exe": "/usr/bin/tabby", "cmdline": ["tabby", "--help"]},
    {"name": "vim", "exe": "/usr/bin/vim", "cmdline": ["vim", "notes/tabby serve.md"]},
    {"name": "bitol", "exe": "/usr/bin/bitol", "cmdline": ["bitol"]},
    {"name": "refact", "exe": "/usr/local/bin/refact", "cmdline": ["refact", "src/"]},
    # `tg` is also a Telegram client; cog is not claimed; other MCP servers and user files
    {"name": "tg", "exe": "/usr/bin/tg", "cmdline": ["tg"]},
    {"name": "vf", "exe": "/usr/local/bin/vf", "cmdline": ["vf", "activate", "env"]},       # virtualfish too
    {"name": "bp", "exe": "/usr/local/bin/bp", "cmdline": ["bp"]},
    {"name": "vibe", "exe": "/usr/local/bin/vibe", "cmdline": ["vibe", "--help"]},
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/app/node_modules/v0-sdk/dist/index.js"]},
    {"name": "foundry", "exe": "/usr/local/bin/foundry", "cmdline": ["foundry", "model", "list"]},
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/usr/local/bin/roo", "help"]},   # roo.land's CLI
    {"name": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "/home/u/openai_test.py"]},
    {"name": "co", "exe": "/usr/local/bin/co", "cmdline": ["co", "auth", "login"]},         # Cohere's, unclaimable
    {"name": "blackbox", "exe": "/app/bin/blackbox", "cmdline": ["blackbox"]},   # Linux's Black Box terminal
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/node_modules/elevenlabs/index.js"]},  # the old SDK
    {"name": "cog", "exe": "/usr/local/bin/cog", "cmdline": ["cog", "-r", "README.md"]},
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"]},
    {"name": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "/home/u/together_notes.py"]},
    {"name": "vim", "exe": "/usr/bin/vim", "cmdline": ["vim", "/home/u/src/tavily-mcp-notes.md"]},
])
def test_cli_near_misses(catalog, info):
    assert ProcessMatcher(catalog).match(info) is None
