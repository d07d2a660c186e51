"""Process signatures of local model runtimes and open-source coding agents (catalog data in
detectors/data/catalog/runtimes.yaml, each from the project's docs), matched on processes laid
out as the real products run: a binary's name, an interpreter's command line, a macOS bundle."""
from __future__ import annotations

import plistlib

import pytest

from shadowmap.agent.discovery.processes import ProcessMatcher


@pytest.mark.parametrize(("info", "tool_id", "by"), [
    ({"name": "llama-server", "exe": "/usr/local/bin/llama-server", "cmdline": ["llama-server", "-m", "q.gguf"]},
     "llama-cpp", "name"),
    ({"name": "llama-cli", "exe": "/opt/llama.cpp/build/bin/llama-cli", "cmdline": ["llama-cli"]}, "llama-cpp", "name"),
    ({"name": "sh", "exe": "/bin/sh", "cmdline": ["sh", "./mistral-7b-instruct.llamafile", "--server"]},
     "llamafile", "cmdline"),
    ({"name": "python3", "exe": "/usr/bin/python3",
      "cmdline": ["python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "m"]}, "vllm", "cmdline"),
    ({"name": "python3", "exe": "/usr/bin/python3",
      "cmdline": ["/home/u/.venv/bin/python3", "/home/u/.venv/bin/vllm", "serve", "m"]}, "vllm", "cmdline"),
    ({"name": "GPT4All", "exe": "/opt/gpt4all/bin/GPT4All", "cmdline": ["GPT4All"]}, "gpt4all", "name"),
    ({"name": "local-ai", "exe": "/usr/local/bin/local-ai", "cmdline": ["local-ai", "run"]}, "localai", "name"),
    ({"name": "python", "exe": "/usr/bin/python3.11",
      "cmdline": ["python", "/home/u/text-generation-webui/server.py", "--listen"]}, "text-generation-webui", "cmdline"),
    ({"name": "AnythingLLM", "exe": "/opt/AnythingLLM/AnythingLLM", "cmdline": ["AnythingLLM"]}, "anythingllm", "name"),
    ({"name": "goose", "exe": "/home/u/.local/bin/goose", "cmdline": ["goose", "session"]}, "goose", "name"),
    ({"name": "opencode", "exe": "/home/u/.opencode/bin/opencode", "cmdline": ["opencode"]}, "opencode", "name"),
    ({"name": "zed-editor", "exe": "/usr/libexec/zed-editor", "cmdline": ["zed-editor"]}, "zed-ai", "name"),
])
def test_runtimes_and_agents_are_named_by_their_processes(catalog, info, tool_id, by):
    hit = ProcessMatcher(catalog).match(info)
    assert hit is not None and hit[:2] == (tool_id, by)


@pytest.mark.parametrize("info", [
    {"name": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "server.py"]},      # any server.py
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "llama-notes/index.js"]},
    {"name": "gooseberry", "exe": "/usr/bin/gooseberry", "cmdline": ["gooseberry"]},
])
def test_near_misses_are_not_runtimes(catalog, info):
    assert ProcessMatcher(catalog).match(info) is None


def test_the_zed_bundle_on_a_mac(tmp_path, catalog):
    app = tmp_path / "Applications" / "Zed.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "Info.plist").write_bytes(plistlib.dumps({"CFBundleIdentifier": "dev.zed.Zed",
                                                                 "CFBundleShortVersionString": "0.210.4"}))
    exe = app / "Contents" / "MacOS" / "zed"
    exe.write_text("")
    hit = ProcessMatcher(catalog).match({"name": "zed", "exe": str(exe), "cmdline": [str(exe)]})
    assert hit == ("zed-ai", "bundle_id", "0.210.4")
