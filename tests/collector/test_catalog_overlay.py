"""Unknown-tools queue decisions take effect at ingest, over the real server: "add to
catalog" puts the domain in the org catalog overlay, so events for it carry the overlay's
tool id in alerts, the inventory and the weekly report; "approve into the register" does
the same and puts the vendor in the register."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from support.db_rows import rows

from shadowmap import contract


def _event(device_id: str, type_: str, data: dict, user: str = "alice") -> dict:
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": type_, "device_id": device_id,
             "user": user, "ts": ts, "data": data}
    contract.validate_event(event)
    return event


def usage(device_id: str, domain: str) -> dict:
    return _event(device_id, "ai_tool.usage", {"tool_id": None, "domain": domain, "active_seconds": 120, "visits": 2,
                                               "browser": "chrome"})


def unknown_signal(device_id: str, domain: str) -> dict:
    return _event(device_id, "ai_tool.unknown_signal", {"domain": domain, "signal": "large_paste_chat_input",
                                                        "paste_length": 4000, "input_kind": "textarea",
                                                        "browser": "chrome"})


async def decide(client, console, **form) -> None:
    csrf = await console.page_csrf(client, "/unknown-tools")
    response = await client.post("/unknown-tools/decide", allow_redirects=False, data={"csrf_token": csrf, **form})
    assert response.status == 303, await response.text()


async def inventory_row(client, tool_id: str) -> dict:
    html = await (await client.get("/inventory")).text()
    match = re.search(rf'<tr><td data-label="Tool">[^<]*<code>{re.escape(tool_id)}</code></td>'
                      r'<td data-label="Vendor">([^<]*)</td><td data-label="Category">[^<]*</td>\s*'
                      r'<td data-label="Users" class="num">(\d+)</td><td data-label="Devices" class="num">(\d+)</td>'
                      r'.*?<td data-label="Events" class="num">(\d+)</td>', html, re.S)
    assert match, html
    return {"vendor": match[1], "users": int(match[2]), "devices": int(match[3]), "events": int(match[4])}


async def weekly_json(client) -> dict:
    year, week, _ = date.today().isocalendar()
    response = await client.get(f"/reports/weekly?week={year}-W{week:02d}&format=json")
    assert response.status == 200, await response.text()
    return await response.json(content_type=None)


async def test_add_to_catalog_attributes_the_domain_in_alerts_inventory_and_report(client, device, config, make,
                                                                                   console):
    did, domain = device["device_id"], "chat.acme-llm.example"
    secret = make.finding("AWS_ACCESS_KEY", "secret")
    # before: the agent could not name the tool; the paste's alert is keyed by the domain
    await console.post_events(client, device, [make.paste(did, tool_id=None, domain=domain, findings=[secret])])
    assert [(a["tool_id"], a["domain"]) for a in rows(config.db_path, "SELECT tool_id, domain FROM alerts WHERE "
                                                             "finding_id = 'copied_secrets'")] == [(None, domain)]
    await console.sign_in(client, "admin", console.admin_password)
    await decide(client, console, kind="domain", name=domain, decision="catalogued", tool_id="acme-llm",
                 vendor="Acme LLM Inc")
    assert rows(config.db_path, "SELECT tool_id, vendor, added_by FROM catalog_overlay WHERE name = ?", (domain,)) == [
        {"tool_id": "acme-llm", "vendor": "Acme LLM Inc", "added_by": "admin"}]
    # after: every kind of event for that domain carries the overlay's tool id
    await console.post_events(client, device, [
        make.paste(did, tool_id=None, domain=domain, findings=[make.finding("GITHUB_TOKEN", "secret")]),
        usage(did, domain), unknown_signal(did, domain)])
    leak = rows(config.db_path, "SELECT tool_id, domain, count FROM alerts WHERE finding_id = 'copied_secrets' "
                        "AND tool_id = 'acme-llm'")
    assert leak == [{"tool_id": "acme-llm", "domain": domain, "count": 1}]
    # attributed events are no longer sightings of an unknown tool
    assert rows(config.db_path, "SELECT status, count FROM unknown_tools WHERE name = ?", (domain,)) == [
        {"status": "catalogued", "count": 1}]
    # the inventory names it (the event stored before the decision included), with its vendor
    assert await inventory_row(client, "acme-llm") == {"vendor": "Acme LLM Inc", "users": 1, "devices": 1, "events": 4}
    # the weekly report counts all four events under the overlay's vendor
    report = await weekly_json(client)
    [vendor] = [v for v in report["vendors"] if v["vendor"] == "Acme LLM Inc"]
    assert (vendor["tools"], vendor["events"], vendor["users"], vendor["devices"]) == (["acme-llm"], 4, 1, 1)
    assert vendor["data_classes_blocked"] == {"secret": 2} and vendor["register"]["in_register"] is False
    assert not any(v["vendor"].startswith("unknown (") for v in report["vendors"])


async def test_approve_into_register_adds_the_vendor_and_attributes_the_domain(client, device, config, make,
                                                                               console):
    did, domain = device["device_id"], "beta-ai.example"
    await console.post_events(client, device, [unknown_signal(did, domain)])
    [queued] = rows(config.db_path, "SELECT signals, score FROM unknown_tools WHERE name = ?", (domain,))
    assert "chat_input_paste" in queued["signals"]
    await console.sign_in(client, "admin", console.admin_password)
    await decide(client, console, kind="domain", name=domain, decision="approved", vendor="Beta AI Ltd")
    assert [r["vendor"] for r in rows(config.db_path, "SELECT vendor FROM register")] == ["Beta AI Ltd"]
    await console.post_events(client, device, [make.paste(did, tool_id=None, domain=domain, action="allow",
                                                          findings=[])])
    assert await inventory_row(client, "beta-ai-example") == {"vendor": "Beta AI Ltd", "users": 1, "devices": 1,
                                                             "events": 2}
    report = await weekly_json(client)
    [vendor] = [v for v in report["vendors"] if v["vendor"] == "Beta AI Ltd"]
    assert (vendor["tools"], vendor["events"], vendor["register"]["in_register"]) == (["beta-ai-example"], 2, True)
    # the YAML to merge into the shipped catalog lists it too
    yaml_text = await (await client.get("/unknown-tools/catalog.yaml")).text()
    assert "beta-ai-example" in yaml_text and domain in yaml_text


async def test_only_admins_change_the_overlay_and_the_report_needs_a_session(client, device, config, console):
    await console.post_events(client, device, [unknown_signal(device["device_id"], "gamma.example")])
    await console.add_account(client, "ana", "analyst")
    await console.sign_in(client, "ana")
    csrf = await console.page_csrf(client, "/unknown-tools")
    response = await client.post("/unknown-tools/decide", data={"csrf_token": csrf, "kind": "domain",
                                                                "name": "gamma.example", "decision": "catalogued",
                                                                "tool_id": "gamma", "vendor": "Gamma"})
    assert response.status == 403
    assert rows(config.db_path, "SELECT * FROM catalog_overlay") == []
    assert (await client.get("/reports/weekly?week=2026-W99&format=json")).status == 400
    assert (await client.get("/reports/weekly?week=2026-W10&format=docx")).status == 400   # pdf is a format now
    client.session.cookie_jar.clear()
    response = await client.get("/reports/weekly?week=2026-W10&format=json", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login?next=")  # back here after
