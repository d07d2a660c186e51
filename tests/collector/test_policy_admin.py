"""An admin changes the AI policy the agents pull: the console page (session + CSRF), an
admin API token, and `shadowmap collector policy show|set`, over the real server and real
SQLite files. Bad policies are refused naming the field; lower roles and forged forms are
refused; every change lands in the record; agents see the new ETag."""
from __future__ import annotations

import json
import subprocess
import sys

from support.db_rows import db_option, rows
from support.processes import REPO

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token

STRICT = {
    "version": 1, "name": "strict", "unknown_tool": "enforce", "on_agent_unavailable": "fail_closed",
    "rules": [
        {"tool": "*", "data_class": "secret", "action": "block"},
        {"tool": "claude", "data_class": "pii", "min_severity": "medium", "action": "redact"},
        {"tool": "*", "data_class": "*", "action": "warn"},
    ],
}


async def agent_policy(client, device, etag: str | None = None):
    headers = dict(device["headers"], **({"If-None-Match": etag} if etag else {}))
    response = await client.get("/api/v1/policy", headers=headers)
    return response.status, response.headers.get("ETag"), (await response.json() if response.status == 200 else None)


async def test_admin_saves_a_policy_in_the_console_and_agents_get_it(client, device, config, console):
    _, old_etag, _ = await agent_policy(client, device)
    await console.sign_in(client, "admin", console.admin_password)
    token = await console.page_csrf(client, "/admin/policy")
    page = await (await client.get("/admin/policy")).text()
    assert old_etag in page.replace("&#34;", '"') and '"rules"' in page.replace("&#34;", '"')

    saved = await client.post("/admin/policy", data={"csrf_token": token, "policy": json.dumps(STRICT)},
                              allow_redirects=False)
    assert saved.status == 303, await saved.text()
    status, new_etag, policy = await agent_policy(client, device, old_etag)
    assert status == 200 and new_etag != old_etag and policy == STRICT
    assert (await agent_policy(client, device, new_etag))[0] == 304
    [entry] = rows(config.db_path, "SELECT kind, subject, actor, detail FROM record_entries WHERE kind = 'admin'")
    assert (entry["kind"], entry["subject"], entry["actor"]) == ("admin", "policy", "admin")
    detail = json.loads(entry["detail"])
    assert detail["etag"] == new_etag and detail["previous_etag"] == old_etag and detail["rules"] == 3


async def test_bad_policies_are_refused_naming_the_problem_and_nothing_changes(client, device, console):
    _, etag, before = await agent_policy(client, device)
    await console.sign_in(client, "admin", console.admin_password)
    token = await console.page_csrf(client, "/admin/policy")
    bad_action = json.loads(json.dumps(STRICT))
    bad_action["rules"][1]["action"] = "explode"
    bad_severity = json.loads(json.dumps(STRICT))
    bad_severity["rules"][1]["min_severity"] = "extreme"
    for text, words in (("{not json", "not JSON"), (json.dumps(bad_action), "explode"),
                        (json.dumps(bad_severity), "extreme"), (json.dumps({"version": 1}), "rules")):
        response = await client.post("/admin/policy", data={"csrf_token": token, "policy": text}, allow_redirects=False)
        body = await response.text()
        assert response.status == 400 and "Not saved" in body and words in body, (text, body[:300])
    assert await agent_policy(client, device) == (200, etag, before)


async def test_only_admins_with_a_valid_form_or_token_may_change_it(client, device, config, console):
    _, etag, _ = await agent_policy(client, device)
    await console.add_account(client, "ana", "analyst")
    await console.sign_in(client, "ana")
    assert (await client.get("/admin/policy")).status == 403
    forged = await client.post("/admin/policy", data={"csrf_token": "x", "policy": json.dumps(STRICT)},
                               allow_redirects=False)
    assert forged.status == 403
    await console.sign_in(client, "admin", console.admin_password)
    no_csrf = await client.post("/admin/policy", data={"policy": json.dumps(STRICT)}, allow_redirects=False)
    assert no_csrf.status == 403
    assert (await agent_policy(client, device))[1] == etag

    client.session.cookie_jar.clear()
    analyst_token = await client.app[STORE].write(lambda db: create_api_token(db, "ci-analyst", "analyst"))
    admin_token = await client.app[STORE].write(lambda db: create_api_token(db, "ci-admin", "admin"))
    refused = await client.post("/admin/policy", data={"policy": json.dumps(STRICT)},
                                headers={"Authorization": f"Bearer {analyst_token}"})
    assert refused.status == 403
    bad = await client.post("/admin/policy", data={"policy": "[]"}, headers={"Authorization": f"Bearer {admin_token}"})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_policy"
    ok = await client.post("/admin/policy", data={"policy": json.dumps(STRICT)},
                           headers={"Authorization": f"Bearer {admin_token}"})
    assert ok.status == 200 and (await ok.json())["etag"] == (await agent_policy(client, device))[1] != etag
    assert [r["actor"] for r in rows(config.db_path, "SELECT actor FROM record_entries WHERE kind = 'admin'")] == \
        ["token:ci-admin"]


def shadowmap(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "policy", *args], cwd=REPO,
                          input=stdin, capture_output=True, text=True, timeout=120)


async def test_policy_show_and_set_from_the_command_line(client, device, config, tmp_path):
    missing = shadowmap("show", "--db", str(tmp_path / "nope.db"))
    assert missing.returncode != 0 and "no such database" in missing.stderr
    shown = shadowmap("show", "--db", db_option(config.db_path))
    assert shown.returncode == 0 and json.loads(shown.stdout) == (await agent_policy(client, device))[2]

    bad = shadowmap("set", "--db", db_option(config.db_path), "-", stdin=json.dumps({"version": 1, "rules": []}))
    assert bad.returncode != 0 and "unknown_tool" in bad.stderr
    saved = shadowmap("set", "--db", db_option(config.db_path), "--actor", "it-ops", "-", stdin=json.dumps(STRICT))
    assert saved.returncode == 0, saved.stderr
    status, etag, policy = await agent_policy(client, device)
    assert policy == STRICT and etag in saved.stdout
    assert [r["actor"] for r in rows(config.db_path, "SELECT actor FROM record_entries WHERE kind = 'admin'")] == ["it-ops"]
