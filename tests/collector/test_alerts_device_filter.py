"""The alerts queue's device filter, over the real server on both backends: exactly one
device's alerts (by its id, shown as its host name), kept with the other filters, in the CSV
export and in the API; a device id no device has, or a value that is no device id, is an
error beside the filters and lists nothing; the queue's host names and the device pages link
to it, and what the device page lists is what the queue shows."""
from __future__ import annotations

import csv
import io
import re
import uuid

import pytest

pytestmark = pytest.mark.both_backends

ALERT_LINK = re.compile(r'<a href="/alerts/(\d+)">[^<]*</a> <span class="id">')
TOTAL = re.compile(r'<span class="total">(\d+) alerts?</span>')


async def _enroll(client, config, host_identifier: str, hostname: str) -> dict:
    secret = config.enroll_secret_path.read_text().strip()
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": secret, "host_identifier": host_identifier, "hostname": hostname, "os": "linux"})
    assert response.status == 200, await response.text()
    enrolled = await response.json()
    enrolled["headers"] = {"Authorization": f"Bearer {enrolled['node_key']}"}
    return enrolled


@pytest.fixture
async def laptops(client, config, make, console) -> dict[str, dict]:
    """dave's secrets only on ops-dave-xps, erin's only on fin-erin-mbp, frank's on both (one
    alert naming two devices), and gina's personal data on ops-dave-xps."""
    await make.approve_vendors(client, "OpenAI")  # no vendor alert: only the leaks, each about one user
    ops = await _enroll(client, config, "host-ops", "ops-dave-xps")
    fin = await _enroll(client, config, "host-fin", "fin-erin-mbp")
    await console.post_events(client, ops, [
        make.paste(ops["device_id"], user="dave", action="allow"),
        make.paste(ops["device_id"], user="frank", action="allow"),
        make.paste(ops["device_id"], user="gina", action="allow", findings=[make.finding("EMAIL_ADDRESS", "pii")])])
    await console.post_events(client, fin, [
        make.paste(fin["device_id"], user="erin", action="allow"),
        make.paste(fin["device_id"], user="frank", action="allow")])
    return {"ops": ops, "fin": fin}


def _ids(html: str) -> set[str]:
    return set(ALERT_LINK.findall(html))


def _users(html: str) -> list[str]:
    return sorted(re.findall(r'<td data-label="User"><a href="[^"]*">([^<]+)</a>', html))


async def test_one_devices_alerts_by_its_id_shown_as_its_host_name(client, console, laptops):
    await console.add_account(client, "vera", "viewer")
    await console.sign_in(client, "vera")
    ops, fin = laptops["ops"]["device_id"], laptops["fin"]["device_id"]
    everything = await (await client.get("/alerts", params={"status": "any"})).text()
    assert TOTAL.search(everything).group(1) == "4" and _users(everything) == ["dave", "erin", "frank", "gina"]

    response = await client.get("/alerts", params={"device": ops, "status": "any"})
    html = await response.text()
    assert response.status == 200
    assert _users(html) == ["dave", "frank", "gina"] and TOTAL.search(html).group(1) == "3"
    chosen = html[html.index('id="device-filter"'):]
    chosen = chosen[:chosen.index("</span></span>")]
    assert "<strong>ops-dave-xps</strong>" in chosen and f'name="device" value="{ops}"' in chosen
    assert ops not in chosen.split("<strong>")[1]  # the id is sent, the host name is shown
    # with another filter: both apply, and the sort and pages keep the device
    html = await (await client.get("/alerts", params={"device": fin, "user": "frank", "status": "any"})).text()
    assert _users(html) == ["frank"]
    assert f"device={fin}" in re.search(r'<th scope="col" aria-sort="[a-z]+"><a href="([^"]+)">Tool', html).group(1)
    # frank's alert names both laptops: each host name links to that device's alerts
    row = html[html.index('<td data-label="Hosts">'):]
    row = row[:row.index("</td>")]
    assert f"device={ops}" in row and f"device={fin}" in row and "ops-dave-xps" in row and "fin-erin-mbp" in row

    export = await client.get("/alerts.csv", params={"device": fin, "status": "any"})
    rows = list(csv.DictReader(io.StringIO(await export.text())))
    assert sorted(r["user"] for r in rows) == ["erin", "frank"] and all("fin-erin-mbp" in r["hosts"] for r in rows)


async def test_a_bad_device_is_an_error_beside_the_other_filters_and_lists_nothing(client, console, laptops):
    await console.sign_in(client, "admin", console.admin_password)
    for value, error in ((str(uuid.uuid4()), "no enrolled device has this id"),
                         ("x" * 65, "device must be a device id"),
                         ("ops\x01dave", "device must be a device id")):
        response = await client.get("/alerts", params={"device": value, "user": "dave", "status": "any"})
        html = await response.text()
        assert response.status == 400, value
        assert 'id="filter-errors"' in html and error in html and 'id="err-device"' in html
        assert 'name="user" value="dave"' in html  # the other filter is kept to be corrected with it
        assert _ids(html) == set() and "No alerts are listed until the filter is fixed" in html
        assert "any device" in html  # the way out: drop the device filter


async def test_the_device_pages_link_to_exactly_their_alerts(client, console, laptops):
    await console.sign_in(client, "admin", console.admin_password)
    for enrolled in laptops.values():
        device_id = enrolled["device_id"]
        page = await (await client.get(f"/devices/{device_id}")).text()
        listed = set(re.findall(r'<a href="/alerts/(\d+)">', page[page.index('id="device-alerts"'):]))
        link = f'href="/alerts?device={device_id}&amp;status=any"'
        assert link in page
        queue = await (await client.get(f"/alerts?device={device_id}&status=any")).text()
        assert _ids(queue) == listed and len(listed) >= 2
        devices = await (await client.get("/devices")).text()
        active = re.search(rf'<a href="/alerts\?device={device_id}" aria-label="(\d+) active alerts', devices)
        assert active and int(active.group(1)) == len(_ids(await (await client.get(f"/alerts?device={device_id}")).text()))


async def test_the_api_filters_by_device_too(client, console, laptops):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    response = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "siem", "role": "viewer", "days": "1"})
    token = re.search(r'<code id="new-token">([^<]+)</code>', await response.text()).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    fin = laptops["fin"]["device_id"]
    body = await (await client.get("/api/v1/alerts", params={"device": fin}, headers=headers)).json()
    assert sorted(a["user"] for a in body["alerts"]) == ["erin", "frank"]
    assert all(fin in a["device_ids"] for a in body["alerts"])
    bad = await client.get("/api/v1/alerts", params={"device": "y" * 65}, headers=headers)
    assert bad.status == 400 and "device" in await bad.text()
