"""Signatures from the search of the 12 catalog tools that had never been searched (issue 20;
each one's source is in the comment above its entry in detectors/data/catalog/*.yaml): the
AgentCore CLI of Amazon Bedrock and Novita's Agent Sandbox CLI, laid out as they run. Near
misses are the general cloud CLIs these platforms are also used through (`aws`, `gcloud`,
IBM's `cpdctl`), which say nothing of which service is used, and user files with the names."""
from __future__ import annotations

import pytest

from shadowmap.agent.discovery.processes import ProcessMatcher


@pytest.mark.parametrize(("info", "tool_id", "by"), [
    # @aws/agentcore from npm: its bin link by name, node running it, node from its package folder
    ({"name": "agentcore", "exe": "/usr/local/bin/agentcore", "cmdline": ["agentcore", "deploy"]},
     "amazon-bedrock", "name"),
    ({"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/usr/local/bin/agentcore", "invoke", "--stream"]},
     "amazon-bedrock", "cmdline"),
    ({"name": "node", "exe": "/opt/homebrew/bin/node",
      "cmdline": ["node", "/opt/homebrew/lib/node_modules/@aws/agentcore/dist/index.js", "dev"]},
     "amazon-bedrock", "cmdline"),
    ({"name": "node.exe", "exe": "C:\\Program Files\\nodejs\\node.exe",
      "cmdline": ["C:\\Program Files\\nodejs\\node.exe",
                  "C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\@aws\\agentcore\\dist\\index.js", "status"]},
     "amazon-bedrock", "cmdline"),
    # the starter toolkit's console script, run by a framework Python (macOS names the interpreter)
    ({"name": "python3.12", "exe": "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12",
      "cmdline": ["/Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12",
                  "/Users/u/.venv/bin/agentcore", "launch"]},
     "amazon-bedrock", "cmdline"),
    # novita-sandbox-cli from npm, globally or through npx
    ({"name": "novita-sandbox-cli", "exe": "/usr/local/bin/novita-sandbox-cli",
      "cmdline": ["novita-sandbox-cli", "sandbox", "list"]}, "novita", "name"),
    ({"name": "node", "exe": "/usr/bin/node",
      "cmdline": ["node", "/home/u/.npm/_npx/4b1e/node_modules/novita-sandbox-cli/dist/index.js", "agent", "configure"]},
     "novita", "cmdline"),
    ({"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/usr/bin/novita-sandbox-cli", "template", "build"]},
     "novita", "cmdline"),
])
def test_platform_clis(catalog, info, tool_id, by):
    hit = ProcessMatcher(catalog).match(info)
    assert hit is not None and hit[:2] == (tool_id, by)


@pytest.mark.parametrize("info", [
    # the clouds' general CLIs: Bedrock, Vertex AI and watsonx.ai are among many services they reach
    {"name": "aws", "exe": "/usr/local/bin/aws", "cmdline": ["aws", "bedrock-runtime", "converse"]},
    {"name": "python3", "exe": "/usr/bin/python3",
     "cmdline": ["python3", "/usr/lib/google-cloud-sdk/lib/gcloud.py", "ai", "endpoints", "list"]},
    {"name": "cpdctl", "exe": "/usr/local/bin/cpdctl", "cmdline": ["cpdctl", "wx-data", "engine", "list"]},
    # SDKs inside a user's own program, and files that merely carry the names
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/app/node_modules/novita-sandbox/dist/index.js"]},
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/app/node_modules/@google/stitch-sdk/dist/index.js"]},
    {"name": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "/home/u/agentcore_notes.py"]},
    {"name": "vim", "exe": "/usr/bin/vim", "cmdline": ["vim", "/home/u/agentcore/README.md"]},
    {"name": "node", "exe": "/usr/bin/node", "cmdline": ["node", "/srv/app/node_modules/@aws-sdk/client-bedrock-agentcore/index.js"]},
])
def test_platform_near_misses(catalog, info):
    assert ProcessMatcher(catalog).match(info) is None
