"""Issue 16 item 4: register edits, the retention policy, unknown-tool decisions and sink
changes are `admin` entries of the hash-chained record (accounts, roles, tokens, SCM
secrets and team imports: test_account_lifecycle.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

from shadowmap import contract
from shadowmap.collector.state import STORE


def unknown_signal(device_id: str, domain: str) -> dict:
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_tool.unknown_signal",
             "device_id": device_id, "user": "alice", "ts": ts,
             "data": {"domain": domain, "signal": "large_paste_chat_input", "paste_length": 4000,
                      "input_kind": "textarea", "browser": "chrome"}}
    contract.validate_event(event)
    return event


async def admin_entries(client) -> list[dict]:
    return await client.app[STORE].read(lambda db: [dict(row) for row in db.query(
        "SELECT subject, actor, detail FROM record_entries_single WHERE kind = 'admin' ORDER BY seq")])


async def test_register_retention_and_unknown_tool_decisions_are_recorded(client, device, console):
    await console.post_events(client, device, [unknown_signal(device["device_id"], "gamma.example")])
    csrf = await console.sign_in(client, "admin", console.admin_password)

    async def post(path: str, **fields) -> None:
        response = await client.post(path, data={"csrf_token": csrf, **fields}, allow_redirects=False)
        assert response.status == 303, (path, response.status, await response.text())

    await post("/register", vendor="OpenAI", dpa_signed="on", dpa_date="2026-01-01", listed="on", accept_name="yes")
    await post("/register/delete", vendor="OpenAI", confirm="yes")
    await post("/register/retention-policy", days="30")
    await post("/unknown-tools/decide", kind="domain", name="gamma.example", decision="catalogued", tool_id="gamma",
               vendor="Gamma")
    entries = [(e["subject"], e["actor"], json.loads(e["detail"])) for e in await admin_entries(client)]
    actions = {(subject, detail.get("action")) for subject, actor, detail in entries if actor == "admin"}
    assert {("register", "save"), ("register", "delete"), ("register", "retention_policy"),
            ("unknown_tool:domain:gamma.example", "decide")} <= actions, actions


async def test_sink_changes_are_recorded(tmp_path):
    from shadowmap.collector.store import Store

    db = tmp_path / "collector.db"
    store = Store(db, read_workers=1)
    await store.open()
    await store.close()
    sinks = tmp_path / "sinks.json"
    sinks.write_text(json.dumps([{"name": "siem", "kind": "webhook", "url": "https://siem.example.com/in",
                                  "secret": "a-sink-secret-0123456789"}]))
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "correct horse battery staple"}
    done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "record", "sinks", "--db", str(db),
                           "--set", str(sinks), "--actor", "ops"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import sqlite3
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT subject, actor, detail FROM record_entries_single WHERE kind = 'admin'").fetchall()
    assert any(subject == "sinks" and actor == "ops" and "siem" in detail and "a-sink-secret" not in detail
               for subject, actor, detail in rows), rows
