"""Text filters holding a control character (a NUL above all: PostgreSQL refuses one in a
string, and the page answered 500) are bad filter values like any other: said beside the
filter, the other filters kept, nothing listed, nothing sent to the store. The alerts queue,
its CSV export, the alerts API, the sessions and pull-request pages; on both backends."""
from __future__ import annotations

import json
import re

import pytest

from shadowmap.collector.alerts.filters import has_control_characters
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import ai_sessions
from shadowmap.collector.store.sqlite.accounts import create_api_token

pytestmark = pytest.mark.both_backends

CONTROLS = ("\x00", "\x1b", "\x7f", "\x85")  # NUL, ESC, DEL, a C1 control (NEL)
ALERT_LINK = re.compile(r'<a href="/alerts/(\d+)">[^<]*</a> <span class="id">')
SESSION_LINK = re.compile(r'<td data-label="Session"><a href="[^"]+">([^<]+)</a>')


def test_control_characters_are_cc_only():
    for control in (*CONTROLS, "\t", "\n", "\x9f"):
        assert has_control_characters(f"pay{control}ments"), repr(control)
    # what people may type or paste into a search is not a control character
    for text in ("", "payments", "Zoë Ökland", "a\u00a0b", "prod.env 🔑", "dave\u200d"):
        assert not has_control_characters(text), text


@pytest.fixture
async def alerts(client, device, make, console) -> None:
    """Two open alerts: erin's blocked secret paste into ChatGPT, dave's into Claude."""
    await make.approve_vendors(client, "OpenAI", "Anthropic")
    await console.post_events(client, device, [
        make.paste(device["device_id"], user="erin"),
        make.paste(device["device_id"], user="dave", tool_id="claude", domain="claude.ai")])


async def test_the_queue_shows_a_control_character_beside_its_filter_with_the_others_kept(client, alerts, console):
    await console.sign_in(client, "admin", console.admin_password)
    response = await client.get("/alerts", params={"user": "erin", "text": "chatgpt"})
    assert response.status == 200 and len(ALERT_LINK.findall(await response.text())) == 1
    for name in ("text", "tool", "user", "team", "assignee"):
        kept = ("text", "chatgpt") if name == "user" else ("user", "erin")
        for control in CONTROLS:
            response = await client.get("/alerts", params={name: f"pay{control}ments", kept[0]: kept[1],
                                                           "severity": "medium"})
            html = await response.text()
            assert response.status == 400, (name, control, html[:300])
            assert f'id="err-{name}"' in html and f"{name} cannot hold control characters" in html, (name, control)
            assert ALERT_LINK.findall(html) == [], (name, control)  # never every alert
            assert f'name="{kept[0]}" value="{kept[1]}"' in html  # the other filters kept
            assert '<option value="medium" selected>' in html
        export = await client.get("/alerts.csv", params={name: "a\x00b", kept[0]: kept[1]})
        assert export.status == 400 and f"{name} cannot hold control characters" in await export.text()


async def test_the_api_refuses_a_control_character_in_a_filter(client, alerts):
    token = await client.app[STORE].write(lambda db: create_api_token(db, "tests"))
    headers = {"Authorization": f"Bearer {token}"}
    response = await client.get("/api/v1/alerts", params={"text": "chatgpt"}, headers=headers)
    assert response.status == 200 and len((await response.json())["alerts"]) == 1
    for name in ("text", "tool", "user", "team", "assignee"):
        response = await client.get("/api/v1/alerts", params={name: "a\x00b"}, headers=headers)
        assert response.status == 400, name
        assert "control characters" in json.dumps(await response.json()), name


def _seed_sessions(db) -> None:
    ai_sessions.upsert(db, [
        ("dev-1", "claude-code", "s-pay-1", "dana@acme.test", "dana", "2.1.0", '["claude-sonnet-4-5"]',
         "github.com/acme/shop", "feature/pay", "2026-12-05T09:00:00Z", "2026-12-05T09:30:00Z", 3, 5,
         "default", "{}", 4, "[]", "ev-1", "2026-12-05T09:30:00Z"),
        ("dev-2", "codex-cli", "cx-7", "lee@acme.test", "lee", "0.46.0", '["gpt-5-codex"]', "github.com/acme/api",
         "main", "2026-12-04T09:00:00Z", "2026-12-04T10:00:00Z", 1, 2, "never/workspace-write", "{}", 0, "[]",
         "ev-2", "2026-12-04T10:00:00Z")])


async def test_the_sessions_filters_show_a_control_character_beside_the_filter(client, console):
    await client.app[STORE].write(_seed_sessions)
    await console.sign_in(client, "admin", console.admin_password)
    response = await client.get("/sessions", params={"user": "lee@acme.test", "repo": "github.com/acme/api"})
    assert response.status == 200 and set(SESSION_LINK.findall(await response.text())) == {"cx-7"}
    for name in ("user", "repo", "tool", "model", "text"):
        kept = ("repo", "github.com/acme/api") if name == "user" else ("user", "lee@acme.test")
        for control in CONTROLS:
            response = await client.get("/sessions", params={name: f"le{control}e", kept[0]: kept[1]})
            html = await response.text()
            assert response.status == 400, (name, control, html[:300])
            assert f'id="err-{name}"' in html and "cannot hold control characters" in html, (name, control)
            assert SESSION_LINK.findall(html) == [], (name, control)
            assert f'<option value="{kept[1]}" selected>' in html  # the other filters kept
    # a session's or a pull request's own page: no such session, no such pull request
    for path in ("/sessions/dev-2/codex-cli/cx%007", "/sessions/dev%002/codex-cli/cx-7"):
        assert (await client.get(path)).status == 404, path
    assert (await client.get("/sessions/dev-2/codex-cli/cx-7")).status == 200
    response = await client.get("/sessions/pulls", params={"repo": "github.com/acme\x00/api"})
    html = await response.text()
    assert response.status == 400 and 'id="err-repo"' in html and "repository cannot hold control characters" in html
    assert (await client.get("/sessions/pulls", params={"repo": "github.com/acme/api"})).status == 200
    assert (await client.get("/sessions/pulls/12", params={"repo": "github.com/acme\x00/api"})).status == 404
