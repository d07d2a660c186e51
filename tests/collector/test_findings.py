"""The six findings raised from ingested events and the register, with evidence, dedupe,
keyed-hash correlation and the unknown-tools queue, through the real server."""
from __future__ import annotations

import json

from support.db_rows import rows

from shadowmap.collector.alerts import retention, unknown_tools
from shadowmap.collector.alerts.findings import VendorStanding, vendor_findings
from shadowmap.collector.alerts.register import Entry, upsert
from shadowmap.collector.state import STORE
from shadowmap.detectors.vendors import load_vendors


def alerts_by_finding(config) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows(config.db_path, "SELECT * FROM alerts ORDER BY id"):
        found.setdefault(row["finding_id"], []).append(row)
    return found


async def test_tool_of_a_vendor_missing_from_the_register_raises_one_org_alert(client, device, config, make, console):
    did = device["device_id"]
    await console.post_events(client, device, [make.observed(did, user=u, data={
        "tool_id": "chatgpt", "source": "extension", "domain": "chatgpt.com"}) for u in ("alice", "bob", "alice")])
    found = alerts_by_finding(config)
    assert set(found) == {"unknown_subprocessor"}
    [alert] = found["unknown_subprocessor"]
    assert (alert["severity"], alert["vendor"], alert["tool_id"], alert["user"]) == ("medium", "OpenAI", "chatgpt", "*")
    assert json.loads(alert["users"]) == ["alice", "bob"] and alert["count"] == 3
    assert "not in the sub-processor register" in json.loads(alert["facts"])["reason"]
    assert len(rows(config.db_path, "SELECT * FROM alert_events WHERE alert_id = ?", (alert["id"],))) == 3


async def test_register_standing_decides_dpa_and_listing_findings_and_a_fix_resolves_them(client, device, config,
                                                                                         make, console):
    did = device["device_id"]
    await client.app[STORE].write(lambda db: upsert(db, [Entry("Anthropic", listed=False, dpa_signed=False)], "t"))
    await console.post_events(client, device, [make.observed(did)])  # claude -> Anthropic
    found = alerts_by_finding(config)
    assert set(found) == {"unknown_subprocessor", "dpa_missing"}
    assert "not publicly listed" in json.loads(found["unknown_subprocessor"][0]["facts"])["reason"]
    # the register is fixed: both alerts resolve, with a logged reason; new use raises nothing
    resolved = await client.app[STORE].write(
        lambda db: upsert(db, [Entry("anthropic", listed=True, dpa_signed=True, dpa_date="2026-02-01")], "alice"))
    assert len(resolved) == 2
    assert {r["status"] for r in rows(config.db_path, "SELECT status FROM alerts")} == {"resolved"}
    log = rows(config.db_path, "SELECT actor, action, note FROM alert_log ORDER BY id")
    assert [(e["actor"], e["action"]) for e in log] == [("alice", "resolve"), ("alice", "resolve")]
    await console.post_events(client, device, [make.observed(did)])
    assert rows(config.db_path, "SELECT count(*) AS n FROM alerts WHERE status = 'open'") == [{"n": 0}]


async def test_retention_longer_than_policy_is_a_finding_and_unknown_retention_is_not(client, device, config, make,
                                                                                     console):
    did = device["device_id"]
    await client.app[STORE].write(lambda db: retention.set_policy_retention_days(db, 30))
    await client.app[STORE].write(lambda db: upsert(db, [
        Entry("OpenAI", listed=True, dpa_signed=True, retention_days=90),
        Entry("Anthropic", listed=True, dpa_signed=True)], "t"))  # no contract figure
    await console.post_events(client, device, [
        make.paste(did, action="allow", findings=[]),  # chatgpt: used, no leak
        make.observed(did)])                           # claude
    found = alerts_by_finding(config)
    assert set(found) == {"retention_exceeds"}
    by_vendor = {a["vendor"]: a for a in found["retention_exceeds"]}
    facts = json.loads(by_vendor["OpenAI"]["facts"])
    assert (facts["vendor_retention_days"], facts["policy_retention_days"]) == (90, 30)
    # Anthropic has no contract figure: its business-tier vendor fact decides (a DPA is signed)
    business = load_vendors()["Anthropic"].retention_days["business"].value
    assert ("Anthropic" in by_vendor) == (isinstance(business, int) and business > 30 or business == "until_deleted")


async def test_without_a_dpa_the_longest_tier_of_the_vendor_facts_counts(client, device, config, make, console):
    await client.app[STORE].write(lambda db: retention.set_policy_retention_days(db, 30))
    await client.app[STORE].write(lambda db: upsert(db, [Entry("OpenAI", listed=True, dpa_signed=False)], "t"))
    await console.post_events(client, device, [make.paste(device["device_id"], action="allow", findings=[])])
    tiers = [fact.value for fact in load_vendors()["OpenAI"].retention_days.values()]
    longest = max(36500 if v == "until_deleted" else v for v in tiers if v == "until_deleted" or isinstance(v, int))
    found = alerts_by_finding(config)
    assert set(found) == {"dpa_missing", "retention_exceeds"} if longest > 30 else {"dpa_missing"}
    if longest > 30:
        assert json.loads(found["retention_exceeds"][0]["facts"])["vendor_retention_days"] == longest


def test_without_vendor_facts_or_policy_retention_raises_nothing():
    standing = dict(vendor="Acme AI", in_register=True, listed=True, dpa_signed=True)
    assert vendor_findings(VendorStanding(**standing, retention_days=None, policy_retention_days=30)) == []
    assert vendor_findings(VendorStanding(**standing, retention_days=400, policy_retention_days=None)) == []
    assert retention.vendor_retention_days("No Such Vendor Ltd") is None
    [(finding, facts)] = vendor_findings(VendorStanding(**standing, retention_days=31, policy_retention_days=30))
    assert finding.id == "retention_exceeds" and facts["vendor_retention_days"] == 31


async def test_secret_in_an_ai_config_raises_the_critical_finding(client, device, config, make, console):
    await make.approve_vendors(client, "Anthropic")
    did = device["device_id"]
    event = {"schema": "shadowmap.event/1", "id": "0b7c9c1e-5d0a-4c43-9a38-3f6f0c0b1a11", "type": "ai_config.finding",
             "device_id": did, "user": "alice", "ts": "2026-03-02T09:00:00Z",
             "data": {"finding": "AI tool with production read access via copied secrets", "severity": "critical",
                      "tool_id": "claude-code", "path": "/home/alice/proj/.mcp.json",
                      "findings": [make.finding("GITHUB_TOKEN", "secret")]}}
    await console.post_events(client, device, [event])
    [alert] = alerts_by_finding(config)["copied_secrets"]
    assert (alert["severity"], alert["tool_id"], alert["user"]) == ("critical", "claude-code", "alice")
    assert json.loads(alert["entity_types"]) == ["GITHUB_TOKEN"]


async def test_the_same_secret_on_three_devices_is_correlated_by_keyed_hash(client, config, make, console):
    await make.approve_vendors(client, "OpenAI")
    shared = make.finding("AWS_ACCESS_KEY", "secret")
    devices = []
    for n in range(3):
        enrolled = await make.enroll(client, config, f"host-{n}")
        device = {**enrolled, "headers": {"Authorization": f"Bearer {enrolled['node_key']}"}}
        devices.append(device)
        await console.post_events(client, device, [make.paste(device["device_id"], user=f"user{n}", findings=[shared])])
    await console.post_events(client, devices[0], [make.paste(devices[0]["device_id"], user="user0",
                                                              findings=[make.finding("GITHUB_TOKEN", "secret")])])
    sightings = rows(config.db_path, "SELECT hash, count(DISTINCT device_id) AS devices FROM hash_sightings GROUP BY hash")
    assert sorted(s["devices"] for s in sightings) == [1, 3]
    assert not rows(config.db_path, "SELECT * FROM hash_sightings WHERE hash NOT IN (SELECT value FROM json_each(?))",
                    (json.dumps(shared["hashes"] + make.finding("GITHUB_TOKEN", "secret")["hashes"]),))
    await console.sign_in(client, "admin", console.admin_password)
    alert_id = rows(config.db_path, "SELECT id FROM alerts WHERE user = 'user1'")[0]["id"]
    html = await (await client.get(f"/alerts/{alert_id}")).text()
    assert "This AWS access key value was seen on 3 devices (3 users)." in html
    assert shared["hashes"][0][:12] in html and shared["hashes"][0] not in html  # a prefix, for reference only


async def test_unknown_domain_is_queued_scored_and_alerted_once_likely(client, device, config, make, console):
    did = device["device_id"]
    await console.post_events(client, device, [
        make.paste(did, tool_id=None, domain="chat.newmodel.ai", action="allow", findings=[]),
        make.observed(did, data={"tool_id": None, "source": "process", "process": "ffmpeg"}),
        # Copilot Money's process: an AI word, but a program known not to be an AI tool
        make.observed(did, data={"tool_id": None, "source": "process", "process": "Copilot"}),
    ])
    queue = {r["name"]: r for r in rows(config.db_path, "SELECT * FROM unknown_tools")}
    assert set(queue) == {"chat.newmodel.ai", "ffmpeg", "Copilot"}
    assert json.loads(queue["Copilot"]["signals"]) == ["process_running"]
    likely, unlikely = queue["chat.newmodel.ai"], queue["ffmpeg"]
    assert set(json.loads(likely["signals"])) == {"pasted_into", "seen_in_browser", "ai_tld", "ai_name"}
    weight = unknown_tools.WEIGHTS
    assert likely["score"] == round(1 - (1 - weight["pasted_into"]) * (1 - weight["seen_in_browser"])
                                    * (1 - weight["ai_tld"]) * (1 - weight["ai_name"]), 3)
    assert likely["score"] >= unknown_tools.ALERT_SCORE > unlikely["score"] == unknown_tools.WEIGHTS["process_running"]
    found = alerts_by_finding(config)
    [alert] = found["unknown_subprocessor"]
    assert alert["domain"] == "chat.newmodel.ai" and alert["tool_id"] is None
    # ignored in the queue: further sightings update it but raise nothing new
    await console.sign_in(client, "admin", console.admin_password)
    csrf = await console.page_csrf(client, "/unknown-tools")
    response = await client.post("/unknown-tools/decide", allow_redirects=False, data={
        "csrf_token": csrf, "kind": "domain", "name": "chat.newmodel.ai", "decision": "ignored"})
    assert response.status == 303
    await client.app[STORE].write(lambda db: db.execute("UPDATE alerts SET status = 'resolved'"))
    await console.post_events(client, device, [make.paste(did, tool_id=None, domain="chat.newmodel.ai", action="allow",
                                                          findings=[])])
    assert rows(config.db_path, "SELECT count, status FROM unknown_tools WHERE name = 'chat.newmodel.ai'") == [
        {"count": 2, "status": "ignored"}]
    assert rows(config.db_path, "SELECT count(*) AS n FROM alerts WHERE status = 'open'") == [{"n": 0}]


async def test_unknown_tool_catalogued_and_approved_by_admin(client, device, config, make, console):
    did = device["device_id"]
    await console.post_events(client, device, [
        make.observed(did, data={"tool_id": None, "source": "network", "domain": "api.llmvendor.example"})])
    await console.sign_in(client, "admin", console.admin_password)
    csrf = await console.page_csrf(client, "/unknown-tools")
    form = {"csrf_token": csrf, "kind": "domain", "name": "api.llmvendor.example"}
    bad = await client.post("/unknown-tools/decide", data={**form, "decision": "catalogued", "tool_id": "Bad Id",
                                                           "vendor": "LLM Vendor"})
    assert bad.status == 400
    ok = await client.post("/unknown-tools/decide", allow_redirects=False,
                           data={**form, "decision": "catalogued", "tool_id": "llmvendor", "vendor": "LLM Vendor"})
    assert ok.status == 303
    yaml_text = await (await client.get("/unknown-tools/catalog.yaml")).text()
    import yaml

    from shadowmap.detectors.catalog import parse_catalog
    catalog = parse_catalog(yaml.safe_load(yaml_text))
    assert catalog.match_domain("api.llmvendor.example").vendor == "LLM Vendor"
    approved = await client.post("/unknown-tools/decide", allow_redirects=False,
                                 data={**form, "decision": "approved", "vendor": "LLM Vendor"})
    assert approved.status == 303
    assert [r["vendor"] for r in rows(config.db_path, "SELECT vendor FROM register")] == ["LLM Vendor"]
