"""Each account's time zone, over the real server on both backends: UTC until the account picks
one on its own page (an IANA name zoneinfo knows; anything else is refused inside the page, the
typed value kept), then the console's exact times are written in it with the zone's
abbreviation and offset, while <time datetime> keeps the machine-readable UTC time. Another
account's times stay in its own zone; the change is in the record. The expected local times are
computed here with zoneinfo, not with the console's formatting."""
from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shadowmap.collector.console.formatting import ago, exact
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite.accounts import create_api_token

pytestmark = pytest.mark.both_backends


def _local(stamp: str, zone: str) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {moment:%Z} (UTC{offset[:3]}:{offset[3:]})"


def _created_title(page: str, stamp: str) -> str:
    """The title of the <time> that writes ``stamp`` (its datetime attribute, UTC as stored)."""
    found = re.search(rf'<time datetime="{re.escape(html.escape(stamp))}" title="([^"]*)">', page)
    assert found, f"no <time datetime={stamp}> in the page"
    return html.unescape(found.group(1))


async def _post(client, path: str, csrf: str, **fields):
    return await client.post(path, data={"csrf_token": csrf, **fields}, allow_redirects=False)


async def test_an_account_sees_exact_times_in_its_own_time_zone(client, config, console, make, device):
    await console.add_account(client, "dana", "analyst")
    await console.post_events(client, device, [make.paste(device["device_id"], ts="2026-12-01T23:30:00.250Z")])
    created = make.select_rows(config.db_path, "SELECT created_at FROM accounts WHERE username = 'dana'")[0]["created_at"]
    assert [r["time_zone"] for r in make.select_rows(config.db_path, "SELECT time_zone FROM accounts")] == ["UTC"] * 2

    csrf = await console.sign_in(client, "admin", console.admin_password)
    page = await (await client.get("/account/password")).text()
    assert re.search(r"<option selected>UTC</option>", page)
    assert '<span id="zone-example">2026-03-01 10:00 UTC</span>' in page
    assert _created_title(await (await client.get("/admin")).text(), created) == \
        datetime.fromisoformat(created.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")

    for wrong in ("Mars/Olympus_Mons", "../../../etc/passwd", "CEST", "+02:00", "Europe/Berlin\x00", ""):
        refused = await _post(client, "/account/time-zone", csrf, time_zone=wrong)
        assert refused.status == 400, wrong
        text = html.unescape(await refused.text())
        assert 'aria-invalid="true"' in text and 'id="err-time-zone"' in text and "<h1>Your account</h1>" in text
        if wrong == "Mars/Olympus_Mons":   # said in the page, the typed name kept in the field
            assert "'Mars/Olympus_Mons' is no IANA time zone name" in text
            assert '<option value="Mars/Olympus_Mons" selected>' in text
    forged = await client.post("/account/time-zone", data={"csrf_token": "wrong", "time_zone": "Asia/Tokyo"},
                               allow_redirects=False)
    assert forged.status == 403
    assert make.select_rows(config.db_path, "SELECT time_zone FROM accounts WHERE username = 'admin'") == \
        [{"time_zone": "UTC"}]

    done = await _post(client, "/account/time-zone", csrf, time_zone="America/New_York")
    assert done.status == 303 and done.headers["Location"].endswith("#time-zone")
    assert make.select_rows(config.db_path, "SELECT time_zone FROM accounts WHERE username = 'admin'") == \
        [{"time_zone": "America/New_York"}]
    admin_page = await (await client.get("/admin")).text()
    assert _created_title(admin_page, created) == _local(created, "America/New_York")   # datetime: still UTC
    # the queue: relative, and beside it the local time (2026-12-01T23:30Z is 18:30 in New York)
    queue = await (await client.get("/alerts?status=any")).text()
    cell = re.search(r'<td data-label="Last seen">(.*?)</td>', queue, re.S).group(1)
    assert 'datetime="2026-12-01T23:30:00.250000Z"' in cell and '<span class="line">1 Dec 18:30 EST</span>' in cell, cell
    # a pull request CI asked about: its time, once raw ISO with microseconds, in the zone too (list and page)
    token = await client.app[STORE].write(lambda db: create_api_token(db, "ci", "viewer"))
    asked = await client.post("/api/v1/provenance", headers={"Authorization": f"Bearer {token}"},
                              json={"repo": "github.com/acme/shop", "number": 7, "files": []})
    assert asked.status == 200, await asked.text()
    asked_at = make.select_rows(config.db_path, "SELECT asked_at FROM pr_provenance")[0]["asked_at"]
    for path in ("/sessions/pulls", "/sessions/pulls/7?repo=github.com/acme/shop"):
        shown = await (await client.get(path)).text()
        assert _created_title(shown, asked_at) == _local(asked_at, "America/New_York"), path
        assert f">{asked_at}<" not in shown
    page = await (await client.get("/account/password")).text()
    assert "<option selected>America/New_York</option>" in page
    assert '<span id="zone-example">2026-03-01 05:00 EST (UTC-05:00)</span>' in page
    entries = make.select_rows(config.db_path, "SELECT actor, subject, detail FROM record_entries WHERE kind = 'admin' "
                                               "AND subject = 'account:admin'")
    assert [(e["actor"], "set_time_zone" in e["detail"], "America/New_York" in e["detail"]) for e in entries] == \
        [("admin", True, True)]

    # another account: its own zone (UTC still), whatever the admin chose
    dana_csrf = await console.sign_in(client, "dana")
    page = await (await client.get("/account/password")).text()
    assert '<span id="zone-example">2026-03-01 10:00 UTC</span>' in page
    queue = await (await client.get("/alerts?status=any")).text()
    assert '<span class="line">1 Dec 23:30 UTC</span>' in queue
    done = await _post(client, "/account/time-zone", dana_csrf, time_zone="Asia/Kolkata")
    assert done.status == 303
    queue = await (await client.get("/alerts?status=any")).text()
    assert '<span class="line">2 Dec 05:00 IST</span>' in queue      # the next day where dana is
    page = await (await client.get("/account/password")).text()
    assert '<span id="zone-example">2026-03-01 15:30 IST (UTC+05:30)</span>' in page
    assert make.select_rows(config.db_path, "SELECT username, time_zone FROM accounts ORDER BY username") == \
        [{"username": "admin", "time_zone": "America/New_York"}, {"username": "dana", "time_zone": "Asia/Kolkata"}]


@pytest.mark.parametrize(("stamp", "zone", "written"), [
    ("2026-03-29T00:59:00Z", "Europe/Berlin", "2026-03-29 01:59 CET (UTC+01:00)"),    # the hour before summer time
    ("2026-03-29T01:00:00.123456Z", "Europe/Berlin", "2026-03-29 03:00 CEST (UTC+02:00)"),
    ("2026-07-01T10:00:00Z", "Asia/Kathmandu", "2026-07-01 15:45 UTC+05:45"),          # no letters for it: the offset
    ("2026-07-01T10:00:00Z", "UTC", "2026-07-01 10:00 UTC"),
    ("2026-07-01T10:00:00Z", "Not/AZone", "2026-07-01 10:00 UTC"),                     # lost since: UTC, said so
    ("not a time", "Europe/Berlin", "not a time"),
])
def test_exact_times_say_their_zone(stamp, zone, written):
    assert exact(stamp, zone) == written


def test_relative_times_past_a_month_and_ahead_of_the_clock_say_the_zone_too():
    now = datetime.fromisoformat("2026-12-07T12:00:00+00:00")
    assert ago("2026-10-01T23:30:00Z", now, "Asia/Tokyo") == "2026-10-02"       # the date where the account is
    assert ago("2026-10-01T23:30:00Z", now) == "2026-10-01"
    assert ago("2026-12-07T12:30:00Z", now, "Europe/Berlin") == "2026-12-07 13:30 CET (UTC+01:00)"  # a clock ahead
    assert ago("2026-12-07T11:55:00Z", now, "Europe/Berlin") == "5 min ago"
