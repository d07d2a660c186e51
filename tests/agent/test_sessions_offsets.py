"""Resumable session offsets: the agent keeps where it stopped reading each session store in a
private state file (0600, under its state folder, no prompt, code or partial line in it), so after
a restart it reads only what was written since, and the session it sends is still whole; a file
truncated or replaced while it was down, a changed org key, or a broken state file make it read
the store again from the start."""
from __future__ import annotations

import json
import os
import stat

import pytest

from shadowmap.agent.sessions import offsets
from shadowmap.agent.sessions import tail as tail_module
from shadowmap.agent.sessions.tail import SessionTail
from shadowmap.contract import lines as line_rule

ORG_KEY = b"k" * 32
PROMPT_CANARY = "canary-prompt-0ff5e7"
CODE = ["def refund(order):", "    canary_refund_77 = order.total", "    return gateway.refund(canary_refund_77)"]
BASE = {"sessionId": "s-resume", "cwd": "/w", "version": "2.1.0"}


def line(kind: str, ts: str, **message) -> str:
    return json.dumps({**BASE, "type": kind, "timestamp": ts, "message": message}) + "\n"


def write_session(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        line("user", "2026-12-05T10:00:00Z", content=f"{PROMPT_CANARY} add refunds") +
        line("assistant", "2026-12-05T10:00:05Z", model="claude-sonnet-4-5", content=[
            {"type": "tool_use", "name": "Write", "input": {"file_path": "/w/refund.py", "content": "\n".join(CODE)}},
            {"type": "tool_use", "name": "Bash", "input": {"command": "pytest -q"}}]) +
        line("user", "2026-12-05T10:00:09Z", content=f"{PROMPT_CANARY} now")[:30])   # a line cut off mid-write


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(tail_module, "SAVE_SECONDS", 0.0)
    home = tmp_path / "home"
    path = home / ".claude" / "projects" / "-w" / "s-resume.jsonl"
    write_session(path)
    return home, path, tmp_path / "state" / offsets.STATE_FILE


def started(home, state_file, key: bytes = ORG_KEY) -> SessionTail:
    """An agent (re)starting: a new tail resuming from the state file."""
    tail = SessionTail(lambda: [("dana", home)])
    tail.keep_offsets(state_file, lambda: key)
    return tail


def test_a_restart_reads_only_what_was_written_since_and_sends_the_whole_session(store):
    home, path, state_file = store
    first = started(home, state_file)
    [session] = first.poll()
    before = session.record.as_event_data(ORG_KEY, None, [], "dana")
    assert (before["prompts"], before["lines_written"]) == (1, 3)
    assert first.poll() == []                  # saved here, at the start of the next poll: what was handed on

    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    saved = state_file.read_bytes()
    for text in (PROMPT_CANARY, "canary_refund_77", "gateway.refund", "add refunds"):
        assert text.encode() not in saved      # counts and keyed hashes only; the cut-off line not at all
    complete = len(path.read_bytes().rsplit(b"\n", 1)[0]) + 1
    assert json.loads(saved)["files"][str(path)]["offset"] == complete

    second = started(home, state_file)         # restart
    assert second.files[path].offset == complete
    assert second.poll() == []                 # the store is not read again
    with open(path, "a") as fh:                # the cut-off line completed, and one more prompt
        fh.write(line("user", "2026-12-05T10:00:09Z", content=f"{PROMPT_CANARY} now")[30:])
        fh.write(line("user", "2026-12-05T10:02:00Z", content="and tests"))
    [resumed] = second.poll()
    after = resumed.record.as_event_data(ORG_KEY, None, [], "dana")
    assert (after["prompts"], after["turns"], after["lines_written"]) == (3, before["turns"], 3)
    assert after["lines"] == before["lines"] and after["tools"]["shell"] == {"pytest": 1}
    key = line_rule.line_key(ORG_KEY)
    assert after["lines"] == [{"path": "/w/refund.py", "hashes": [line_rule.line_hash(key, c) for c in CODE]}]
    assert after["ended"] == "2026-12-05T10:02:00Z" and after["started"] == "2026-12-05T10:00:00Z"


def test_a_file_truncated_or_replaced_while_down_is_read_from_the_start(store):
    home, path, state_file = store
    first = started(home, state_file)
    first.poll()
    first.poll()
    replacement = path.with_name("new.tmp")
    replacement.write_text(line("user", "2026-12-06T08:00:00Z", content="fresh start"))
    os.replace(replacement, path)              # another inode, and shorter
    [again] = started(home, state_file).poll()
    assert again.record.prompts == 1 and again.record.lines_written() == 0
    assert again.record.started == "2026-12-06T08:00:00Z"


def test_another_key_or_a_broken_state_file_means_reading_again(store):
    home, path, state_file = store
    first = started(home, state_file)
    first.poll()
    first.poll()
    [rekeyed] = started(home, state_file, key=b"j" * 32).poll()     # hashes made under the old key are not reused
    assert rekeyed.record.prompts == 1 and rekeyed.record.lines_written() == 3
    state_file.write_text('{"version": 1, "key": ')
    [broken] = started(home, state_file).poll()
    assert broken.record.prompts == 1

    # a key change while running: the tail drops what it holds and reads the stores again
    keys = [ORG_KEY]
    tail = SessionTail(lambda: [("dana", home)])
    tail.keep_offsets(state_file, lambda: keys[0])
    tail.poll()
    keys[0] = b"j" * 32
    [reread] = tail.poll()
    assert reread.record.prompts == 1 and reread.record.lines_written() == 3


def test_the_daemons_discovery_resumes_and_a_one_shot_pass_does_not_save(tmp_path, catalog):
    from shadowmap.agent.config import load_config
    from shadowmap.agent.discovery.service import Discovery, DiscoveryService
    from shadowmap.agent.discovery.tracker import Tracker

    home = tmp_path / "home"
    write_session(home / ".claude" / "projects" / "-w" / "s-resume.jsonl")
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", collector_url="",
                         mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""})
    tail_module.SAVE_SECONDS, saved_every = 0.0, tail_module.SAVE_SECONDS

    def daemon_discovery() -> Discovery:
        finder = Discovery(config, catalog, user="dana", org_key=lambda: ORG_KEY, homes=[("dana", home)])
        DiscoveryService(finder, Tracker(None, lambda *a: None))
        return finder
    try:
        one_shot = Discovery(config, catalog, user="dana", org_key=lambda: ORG_KEY, homes=[("dana", home)])
        assert len(one_shot.sessions()) == 1 and one_shot.sessions() == []
        assert not (config.state_dir / offsets.STATE_FILE).exists()
        finder = daemon_discovery()
        assert [o.data["prompts"] for o in finder.sessions()] == [1]
        assert finder.sessions() == []
        assert (config.state_dir / offsets.STATE_FILE).exists()
        assert daemon_discovery().sessions() == []                       # restarted: nothing read again
    finally:
        tail_module.SAVE_SECONDS = saved_every
