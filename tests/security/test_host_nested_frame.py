"""Issue 16, item 12 (the native host): a frame of deeply nested JSON gets a clear error
reply, and the host goes on serving the browser's next request; it does not die."""
from __future__ import annotations

import os
import subprocess
import sys

from support.processes import REPO

from shadowmap.contract.host import chromium_origin
from shadowmap.ipc import framing

DEPTH = 200_000


def _frames(data: bytes) -> list[dict]:
    out, at = [], 0
    while at < len(data):
        (length,) = framing.HEADER.unpack_from(data, at)
        out.append(framing.decode_body(data[at + 4: at + 4 + length]))
        at += 4 + length
    return out


def test_a_deeply_nested_frame_gets_an_error_and_the_host_lives_on(tmp_path):
    nested = b'{"type":"ping","x":' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    stdin = framing.HEADER.pack(len(nested)) + nested + framing.encode({"type": "ping", "id": 2})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    env["SHADOWMAP_AGENT_SOCKET"] = str(tmp_path / "no-agent.sock")
    proc = subprocess.run([sys.executable, "-m", "shadowmap.bridge.host", chromium_origin()],
                          input=stdin, capture_output=True, env=env, cwd=REPO, timeout=60)
    replies = _frames(proc.stdout)
    assert "Traceback" not in proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0
    assert len(replies) == 2, replies
    assert replies[0]["type"] == "error" and replies[0]["error"] == "bad_json"
    assert "nested" in replies[0]["detail"]
    # the next request is served (no agent here: the host says so, with the request's id)
    assert replies[1]["id"] == 2 and replies[1]["error"] == "agent_unavailable"
