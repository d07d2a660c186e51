"""A running codex's approval and sandbox flags judged against the managed requirements: a real
process named ``codex`` (a small script run by a private copy of the interpreter, so its
executable is this test's alone) on a fake root holding etc/codex/requirements.toml. The
agent's process discovery sends ai_tool.observed with the managed_settings_drift risk, once
per change; a compliant command line carries none; nothing of the command line but the
documented options and enum values reaches the event."""
from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from pathlib import Path

from shadowmap import contract
from shadowmap.agent.config import load_config
from shadowmap.agent.discovery.service import Discovery
from shadowmap.agent.discovery.tracker import Tracker

from .conftest import wait_until

REQUIREMENTS = """
allowed_approval_policies = ["untrusted", "on-request"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
"""
TOKEN = "ghp_R8x2Lq9ZtW4vN7mK3pB6"                 # a value no requirement lists: never kept
PROMPT = "fix the billing export for customer 4242"
YOLO_ARGV = ["--yolo", "-c", f"approval_policy={TOKEN}", "-m", "o3", PROMPT]
COMPLIANT_ARGV = ["-a", "on-request", "--sandbox", "workspace-write", "explain --yolo to me"]
ALLOW_APPROVAL = "while the managed requirements allow only untrusted, on-request"
YOLO_DRIFT = [
    f"codex runs with --yolo (approval_policy never) {ALLOW_APPROVAL}",
    "codex runs with --yolo (sandbox_mode danger-full-access) while the managed requirements allow only "
    "read-only, workspace-write",
    f"codex runs with -c approval_policy (approval_policy another value) {ALLOW_APPROVAL}",
]


def fake_codex(root: Path) -> tuple[Path, Path]:
    """(the interpreter copy, the script named codex it runs)."""
    (root / "py").mkdir()
    interpreter = root / "py" / "python3"
    shutil.copy(os.path.realpath(sys.executable), interpreter)
    script = root / "bin" / "codex"
    script.parent.mkdir()
    script.write_text(f"#!{interpreter}\nimport time\ntime.sleep(120)\n")
    script.chmod(0o755)
    return interpreter, script


def discovery_on(tmp_path: Path, catalog, root: Path) -> Discovery:
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", mode="user",
                         env={"SHADOWMAP_AGENT_CONFIG": ""})
    found = Discovery(config, catalog, user="agent", org_key=lambda: b"k" * 32, homes=[], resolver=lambda h: [],
                      ports={})
    found.managed_root = root
    return found


class Sent:
    """A tracker whose emitted events are kept; ``of(exe)`` the ai_tool.observed of one executable."""

    def __init__(self):
        self.events: list[tuple[str, str, dict]] = []
        self.tracker = Tracker(None, lambda kind, user, data: self.events.append((kind, user, data)))

    def pass_of(self, discovery: Discovery, exe: Path) -> list[dict]:
        self.events.clear()
        self.tracker.observe(discovery.processes())
        return [data for kind, _, data in self.events if kind == "ai_tool.observed" and data.get("exe") == str(exe)]


def valid(data: dict) -> dict:
    contract.validate_event({"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_tool.observed",
                             "device_id": "d1", "user": "dana", "ts": "2026-12-07T10:00:00Z", "data": data})
    return data


def drift_of(data: dict) -> list[str]:
    assert {r["flag"] for r in data.get("risks", ())} <= {"managed_settings_drift"}
    return [r["evidence"] for r in data.get("risks", ())]


def test_a_yolo_codex_is_sent_with_its_drift_and_nothing_else_of_its_command_line(tmp_path, catalog, spawn):
    interpreter, script = fake_codex(tmp_path)
    root = tmp_path / "root"
    proc = spawn(str(script), *YOLO_ARGV)
    discovery, sent = discovery_on(tmp_path, catalog, root), Sent()

    # no requirements on this device: the flags are nobody's concern
    [first] = wait_until(lambda: sent.pass_of(discovery, interpreter), 10, "the fake codex in the process table")
    assert (valid(first)["tool_id"], first["process"], first["change"]) == ("codex-cli", "codex", "new")
    assert "risks" not in first

    # the organisation's requirements appear: the next pass is a change carrying the drift
    (root / "etc" / "codex").mkdir(parents=True)
    (root / "etc" / "codex" / "requirements.toml").write_text(REQUIREMENTS)
    [changed] = sent.pass_of(discovery, interpreter)
    assert changed["change"] == "changed" and drift_of(valid(changed)) == YOLO_DRIFT

    # only the documented options and values: no prompt, token or other argument
    text = json.dumps(changed)
    for kept_out in (TOKEN, "billing", "4242", str(script)):
        assert kept_out not in text
    [match] = [m for m in discovery.matcher.scan() if m.pid == proc.pid]
    assert match.run_settings == (("approval_policy", "never", "--yolo"),
                                  ("sandbox_mode", "danger-full-access", "--yolo"),
                                  ("approval_policy", "another value", "-c approval_policy"))
    assert TOKEN not in repr(match) and PROMPT not in repr(match)

    # the same drift next pass is not sent again
    assert sent.pass_of(discovery, interpreter) == []


def test_a_compliant_codex_carries_no_risk_until_a_yolo_one_joins_it(tmp_path, catalog, spawn):
    interpreter, script = fake_codex(tmp_path)
    root = tmp_path / "root"
    (root / "etc" / "codex").mkdir(parents=True)
    (root / "etc" / "codex" / "requirements.toml").write_text(REQUIREMENTS)
    discovery, sent = discovery_on(tmp_path, catalog, root), Sent()

    spawn(str(script), *COMPLIANT_ARGV)
    [compliant] = wait_until(lambda: sent.pass_of(discovery, interpreter), 10, "the compliant codex")
    assert compliant["change"] == "new" and "risks" not in valid(compliant)
    assert "explain" not in json.dumps(compliant)
    assert sent.pass_of(discovery, interpreter) == []

    # a second codex of the same executable and user is the same observation: its drift is a change
    yolo = spawn(str(script), *YOLO_ARGV)
    [changed] = wait_until(lambda: sent.pass_of(discovery, interpreter), 10, "the yolo codex joining")
    assert changed["change"] == "changed" and drift_of(valid(changed)) == YOLO_DRIFT
    assert sent.pass_of(discovery, interpreter) == []

    # the yolo run ends: one change without the risk, then quiet
    yolo.kill()
    yolo.wait(timeout=10)
    [resolved] = wait_until(lambda: sent.pass_of(discovery, interpreter), 10, "the yolo codex gone")
    assert resolved["change"] == "changed" and "risks" not in resolved
    assert sent.pass_of(discovery, interpreter) == []
