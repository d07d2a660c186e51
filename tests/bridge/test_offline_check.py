"""The extension's offline check (extension/offline.js), run by node: the data classes it
recognises alone while the agent is down, with near misses that must not match, and the
verdict per on_agent_unavailable mode."""
from __future__ import annotations

import json
import subprocess

import pytest

from shadowmap.bridge.extension_id import EXTENSION_DIR

TABLE = [
    # text, classes
    ("aws_access_key_id = AKIAZ3MHQ4WXRT6PLN2B", ["secret"]),
    ("AKIAZ3MHQ4WXRT6PLN2", []),                                    # one character short
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=", ["secret"]),
    ("-----BEGIN PUBLIC KEY-----", []),
    ("token ghp_" + "a1B2" * 9, ["secret"]),
    ("postgres://app:s3cret@db.internal:5432/prod", ["secret"]),
    ("https://example.com/path@v2", []),                            # no password in it
    ("write to jane.doe@acme-corp.com", ["pii"]),
    ("card 4111 1111 1111 1111 exp 12/29", ["payment"]),
    ("order 4111 1111 1111 1112", []),                              # fails the Luhn check
    ("the meeting is at 10:30 in room 4", []),
]


def run_node(program: str) -> object:
    source = (EXTENSION_DIR / "offline.js").read_text()
    # offline.js is an ES module (the service worker imports it): run it as one
    done = subprocess.run(["node", "--input-type=module", "-e", source + "\n" + program], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_classes_with_near_misses():
    texts = [text for text, _ in TABLE]
    found = run_node(f"console.log(JSON.stringify({json.dumps(texts)}.map(shadowmapOfflineClasses)))")
    assert found == [classes for _, classes in TABLE]


@pytest.mark.parametrize("modes, text, action", [
    ({"default": "fail_open"}, "key AKIAZ3MHQ4WXRT6PLN2B", "allow"),
    ({"default": "fail_open", "secret": "fail_closed"}, "key AKIAZ3MHQ4WXRT6PLN2B", "block"),
    ({"default": "fail_open", "secret": "fail_closed"}, "mail jane@acme-corp.com", "allow"),
    ({"default": "fail_closed", "pii": "fail_open"}, "mail jane@acme-corp.com", "allow"),
    ({"default": "fail_closed", "pii": "fail_open"}, "nothing recognisable", "block"),
])
def test_verdict_follows_the_mode_per_class(modes, text, action):
    verdict = run_node(f"console.log(JSON.stringify(shadowmapOfflineVerdict({json.dumps(text)}, {json.dumps(modes)})))")
    assert verdict["action"] == action and verdict["offline"] is True
    assert text not in json.dumps(verdict)          # the verdict never carries the text
