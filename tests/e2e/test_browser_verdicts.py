"""The extension's handling of each verdict, in real Chromium with the real native host,
against a scripted agent stand-in on a Unix socket (the real agent is in
test_browser_paste.py): allow lands in every kind of editor, warn lands with a notice,
block stops the paste and names the finding types, never the values."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from extension_bridge import framing

pytestmark = pytest.mark.browser

SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"
FINDINGS = {
    "block": [{"entity_type": "AWS_ACCESS_KEY", "data_class": "secret", "count": 1, "reason": "AWS access key"},
              {"entity_type": "EMAIL_ADDRESS", "data_class": "pii", "count": 1, "reason": "email"}],
    "warn": [{"entity_type": "PERSON", "data_class": "pii", "count": 1, "reason": "person"}],
    "allow": [],
}


def verdict_for(text: str) -> str:
    return "block" if "AKIA" in text else "warn" if "Dr." in text else "allow"


@pytest.fixture
def scripted_agent(short_dir: Path) -> Iterator[list[dict]]:
    """Answers like the agent, deciding by the text; yields the requests it received."""
    path = short_dir / "agent.sock"
    received: list[dict] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve_connection(conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while (request := framing.read_frame(reader)) is not None:
                received.append(request)
                if request["type"] == "scan":
                    action = verdict_for(request["text"])
                    reply = {"type": "verdict", "action": action, "reason": f"policy says {action}",
                             "findings": FINDINGS[action], "event_id": "ev"}
                else:
                    reply = {"type": "ack"}
                conn.sendall(framing.encode({**reply, "id": request.get("id")}))

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield received
    server.close()


def test_each_verdict_is_applied_in_every_editor(launch_chromium, scripted_agent, short_dir, tmp_path, ui):
    udd = tmp_path / "profile"
    ui.install_bridge(udd, short_dir / "agent.sock", tmp_path / "bin")
    context = launch_chromium(udd)
    page = ui.open(context, "https://claude.ai/new")
    for selector in ("#ta", "#ce", "#pm"):
        harmless = f"summarise the meeting notes for {selector}"
        assert ui.paste(page, selector, harmless) == "allow"
        assert ui.text(page, selector).strip() == harmless
        assert ui.banner_kind(page) is None

        assert ui.paste(page, selector, f"deploy with {SECRET_VALUE} and ops@acme-corp.com") == "block"
        assert ui.text(page, selector).strip() == harmless  # nothing new landed
        assert ui.banner_kind(page) == "block"
        shown = ui.banner_text(page)
        assert "AWS access key" in shown and "email address" in shown and "policy says block" in shown
        assert SECRET_VALUE not in shown and "acme-corp" not in shown

        assert ui.paste(page, selector, "letter for Dr. Watson") == "warn"
        assert "letter for Dr. Watson" in ui.text(page, selector)
        assert ui.banner_kind(page) == "warn"
        assert "person name" in ui.banner_text(page)

    scans = [r for r in scripted_agent if r["type"] == "scan"]
    assert len(scans) == 9
    assert all(r["channel"] == "paste" and r["url"] == "https://claude.ai/new" for r in scans)
    assert all(r["browser"].startswith("chrome-extension://") for r in scans)
    assert {"type": "visit", "url": "https://claude.ai/new"} in [
        {k: r[k] for k in ("type", "url")} for r in scripted_agent if r["type"] == "visit"]
