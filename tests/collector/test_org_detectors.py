"""An admin sets the organisation's detectors (customer-ID formats, internal domains) in the
console (session + CSRF) or with an admin API token, over the real server and a real store:
documents are checked against the schema and every pattern is compiled and guarded (a known
ReDoS pattern is refused), each change lands in the record as an admin action, and the
policy the agents pull carries the saved version under a new ETag."""
from __future__ import annotations

import json

import pytest
from support.db_rows import db_option, rows

from shadowmap import contract
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token

CUSTOMER_IDS = """version: 1
internal_domains: [acme-corp.internal]
identifiers:
  - entity_type: ORG_CUSTOMER_ID
    pattern: '\\bCUST-\\d{6}\\b'
    reason: Acme customer ID
    context: [customer]
"""
# the classic exponential form: a repeated group holding an unbounded repetition
REDOS = {"version": 1, "identifiers": [{"entity_type": "ORG_TICKET", "pattern": "^(\\w+\\s?)+$", "reason": "ticket"}]}
# overlapping alternatives under a repetition: no nesting, found by the timed probes
REDOS_ALTERNATION = {"version": 1, "identifiers": [{"entity_type": "ORG_CODE", "pattern": "^(a|aa)+$", "reason": "code"}]}


async def served(client, device, etag: str | None = None):
    headers = dict(device["headers"], **({"If-None-Match": etag} if etag else {}))
    response = await client.get("/api/v1/policy", headers=headers)
    return response.status, response.headers.get("ETag"), (await response.json() if response.status == 200 else None)


@pytest.mark.both_backends
async def test_admin_sets_a_customer_id_format_in_the_console_and_the_policy_carries_it(client, device, config,
                                                                                         console):
    _, old_etag, before = await served(client, device)
    assert "org_detectors" not in before
    await console.sign_in(client, "admin", console.admin_password)
    token = await console.page_csrf(client, "/admin/org-detectors")
    assert "None saved yet" in await (await client.get("/admin/org-detectors")).text()

    saved = await client.post("/admin/org-detectors", data={"csrf_token": token, "org_detectors": CUSTOMER_IDS},
                              allow_redirects=False)
    assert saved.status == 303, await saved.text()
    status, new_etag, policy = await served(client, device, old_etag)
    assert status == 200 and new_etag != old_etag
    contract.validate_policy(policy)
    assert policy["org_detectors"]["identifiers"][0]["pattern"] == "\\bCUST-\\d{6}\\b"
    assert policy["org_detectors"]["internal_domains"] == ["acme-corp.internal"]
    assert (await served(client, device, new_etag))[0] == 304
    page = await (await client.get("/admin/org-detectors")).text()
    assert 'id="org-detectors-version">1<' in page and "ORG_CUSTOMER_ID" in page

    [entry] = [r for r in await client.app[STORE].read(
        lambda db: list(db.query("SELECT kind, subject, actor, detail FROM record_entries WHERE kind = 'admin'")))]
    assert (entry["subject"], entry["actor"]) == ("org_detectors", "admin")
    detail = json.loads(entry["detail"])
    assert detail["version"] == 1 and detail["previous_version"] is None
    assert detail["added"] == ["ORG_CUSTOMER_ID"] and detail["internal_domains"] == ["acme-corp.internal"]

    # a second version that drops the format: recorded with what it removed, served again
    emptied = await client.post("/admin/org-detectors", data={"csrf_token": token, "org_detectors": "version: 1\n"},
                                allow_redirects=False)
    assert emptied.status == 303
    status, third_etag, policy = await served(client, device, new_etag)
    assert status == 200 and third_etag not in (old_etag, new_etag) and policy["org_detectors"] == {"version": 1}
    details = [json.loads(r["detail"]) for r in await client.app[STORE].read(
        lambda db: list(db.query("SELECT detail FROM record_entries WHERE kind = 'admin' ORDER BY seq")))]
    assert details[-1]["removed"] == ["ORG_CUSTOMER_ID"] and details[-1]["previous_version"] == 1


async def test_bad_and_unsafe_documents_are_refused_naming_the_problem(client, device, console):
    _, etag, before = await served(client, device)
    await console.sign_in(client, "admin", console.admin_password)
    token = await console.page_csrf(client, "/admin/org-detectors")
    bad_type = {"version": 1, "identifiers": [{"entity_type": "CUSTOMER", "pattern": "C-\\d+", "reason": "x"}]}
    bad_regex = {"version": 1, "identifiers": [{"entity_type": "ORG_X", "pattern": "C-(\\d+", "reason": "x"}]}
    empty_match = {"version": 1, "identifiers": [{"entity_type": "ORG_X", "pattern": "\\d*", "reason": "x"}]}
    too_long = {"version": 1, "identifiers": [{"entity_type": "ORG_X", "pattern": "A" * 501, "reason": "x"}]}
    for document, words in ((json.dumps(REDOS), "unsafe pattern"), (json.dumps(REDOS_ALTERNATION), "took longer"),
                            (json.dumps(bad_type), "CUSTOMER"), (json.dumps(bad_regex), "bad pattern"),
                            (json.dumps(empty_match), "empty text"), (json.dumps(too_long), "too long"),
                            ("version: [", "not YAML")):
        response = await client.post("/admin/org-detectors", data={"csrf_token": token, "org_detectors": document},
                                     allow_redirects=False)
        body = await response.text()
        assert response.status == 400 and "Not saved" in body and words in body, (document, body[-800:])
    assert await served(client, device) == (200, etag, before)


async def test_the_api_takes_an_admin_token_and_refuses_everyone_else(client, device, console):
    _, etag, _ = await served(client, device)
    analyst = await client.app[STORE].write(lambda db: create_api_token(db, "ci-analyst", "analyst"))
    admin = await client.app[STORE].write(lambda db: create_api_token(db, "ci-admin", "admin"))
    document = {"version": 1, "identifiers": [{"entity_type": "ORG_CONTRACT", "pattern": "\\bK-\\d{8}\\b",
                                               "reason": "contract number"}]}
    refused = await client.put("/api/v1/org-detectors", json=document,
                               headers={"Authorization": f"Bearer {analyst}"})
    assert refused.status == 403
    assert (await client.put("/api/v1/org-detectors", json=document)).status == 401
    assert (await client.get("/api/v1/org-detectors")).status == 401
    anonymous_page = await client.get("/admin/org-detectors", allow_redirects=False)
    assert anonymous_page.status == 302 and anonymous_page.headers["Location"].startswith("/login")
    unsafe = await client.put("/api/v1/org-detectors", json=REDOS, headers={"Authorization": f"Bearer {admin}"})
    assert unsafe.status == 400 and (await unsafe.json())["error"]["code"] == "invalid_org_detectors"
    assert (await served(client, device))[1] == etag

    ok = await client.put("/api/v1/org-detectors", json=document, headers={"Authorization": f"Bearer {admin}"})
    assert ok.status == 200 and (await ok.json())["version"] == 1
    got = await client.get("/api/v1/org-detectors", headers={"Authorization": f"Bearer {admin}"})
    assert (await got.json()) == {"version": 1, "org_detectors": document}
    status, new_etag, policy = await served(client, device, etag)
    assert status == 200 and new_etag != etag and policy["org_detectors"] == document
    # the form field works with a token too (no CSRF for tokens), like the policy's
    form = await client.post("/admin/org-detectors", data={"org_detectors": CUSTOMER_IDS},
                             headers={"Authorization": f"Bearer {admin}"})
    assert form.status == 200 and (await form.json())["version"] == 2

    # a signed-in admin changes them through the form (CSRF), not through the JSON API
    await console.sign_in(client, "admin", console.admin_password)
    assert (await client.put("/api/v1/org-detectors", json=document)).status == 403
    no_csrf = await client.post("/admin/org-detectors", data={"org_detectors": CUSTOMER_IDS}, allow_redirects=False)
    assert no_csrf.status == 403
    await console.add_account(client, "ana", "analyst")
    await console.sign_in(client, "ana")
    assert (await client.get("/admin/org-detectors")).status == 403
    actors = [r["actor"] for r in await client.app[STORE].read(
        lambda db: list(db.query("SELECT actor FROM record_entries WHERE kind = 'admin' ORDER BY seq")))]
    assert actors == ["token:ci-admin", "token:ci-admin"]


def test_the_record_table_is_the_one_the_store_reads(tmp_path):
    """The migration's table holds what the store writes (SQLite file read back)."""
    import sqlite_utils

    from shadowmap.collector.store.migrations import apply_migrations
    from shadowmap.collector.store.sqlite import org_detectors as stored
    db = sqlite_utils.Database(tmp_path / "c.db")
    apply_migrations(db)
    assert stored.current(db) is None
    assert stored.save(db, {"version": 1}, "admin") == 1
    assert stored.save(db, {"version": 1, "internal_domains": ["x.internal"]}, "bob") == 2
    assert stored.current(db) == (2, {"version": 1, "internal_domains": ["x.internal"]})
    assert [r["changed_by"] for r in rows(tmp_path / "c.db", "SELECT changed_by FROM org_detector_versions")] == \
        ["admin", "bob"]


async def test_two_nodes_saving_at_once_get_distinct_versions(pg_url):
    """Two collector nodes on one PostgreSQL save versions at once: each save its own number
    (they take turns on the version lock), every one recorded."""
    import asyncio

    from shadowmap.collector.console.org_detectors import replace_org_detectors
    from shadowmap.collector.store import open_store
    from shadowmap.collector.store.url import parse_database_url

    url = parse_database_url(pg_url)
    stores = [open_store(url), open_store(url)]
    for store in stores:
        await store.open()
    try:
        each = 10
        saved = await asyncio.gather(*(store.write(replace_org_detectors, {"version": 1, "internal_domains": [
            f"n{node}-{n}.internal"]}, f"node-{node}") for node, store in enumerate(stores) for n in range(each)))
        assert sorted(saved) == list(range(1, 2 * each + 1))
        details = await stores[0].read(lambda db: [json.loads(r["detail"]) for r in db.query(
            "SELECT detail FROM record_entries WHERE kind = 'admin' AND subject = 'org_detectors'")])
        assert sorted(d["version"] for d in details) == sorted(saved)
    finally:
        for store in stores:
            await store.close()


def org_detectors_cli(*args: str, stdin: str | None = None):
    import subprocess
    import sys

    from support.processes import REPO
    return subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "org-detectors", *args], cwd=REPO,
                          input=stdin, capture_output=True, text=True, timeout=120)


async def test_the_command_line_sets_the_file_an_agent_used_to_read(client, device, config):
    """`shadowmap collector org-detectors set` takes the $SHADOWMAP_ORG_DETECTORS file as it is."""
    _, etag, _ = await served(client, device)
    assert org_detectors_cli("show", "--db", db_option(config.db_path)).returncode != 0      # none saved yet
    unsafe = org_detectors_cli("set", "--db", db_option(config.db_path), "-", stdin=json.dumps(REDOS))
    assert unsafe.returncode != 0 and "unsafe pattern" in unsafe.stderr
    saved = org_detectors_cli("set", "--db", db_option(config.db_path), "--actor", "it-ops", "-", stdin=CUSTOMER_IDS)
    assert saved.returncode == 0 and "version 1" in saved.stdout, saved.stderr
    shown = org_detectors_cli("show", "--db", db_option(config.db_path))
    assert json.loads(shown.stdout)["identifiers"][0]["entity_type"] == "ORG_CUSTOMER_ID"
    status, new_etag, policy = await served(client, device, etag)
    assert status == 200 and new_etag != etag and policy["org_detectors"] == json.loads(shown.stdout)
    assert [r["actor"] for r in rows(config.db_path, "SELECT actor FROM record_entries WHERE kind = 'admin'")] == \
        ["it-ops"]
