"""Working in the register page: names checked against the catalog, every import error in
the page, edit in place, "Add" from the in-use rows, DPA link/expiry/owner, findings judged
again at once; and the one CSV reader the register and the teams import share."""
from __future__ import annotations

import re

import pytest

from shadowmap.collector.alerts.register import RegisterError, check_vendor, parse_csv
from shadowmap.collector.console.teams import TeamsError
from shadowmap.collector.console.teams import parse_csv as parse_teams


def test_vendor_names_are_checked_against_the_catalog():
    assert check_vendor("openai") == ("OpenAI", None, False)
    spelling, warning, wrong = check_vendor("Cursor")
    assert wrong and warning == "Cursor is a tool, not a vendor: its vendor is Anysphere"
    assert check_vendor("Acme Internal LLM")[1].startswith("Acme Internal LLM is not a vendor in the catalog")


def test_an_import_lists_every_bad_line_and_imports_nothing():
    with pytest.raises(RegisterError) as caught:
        parse_csv("vendor,listed,dpa_expires\nOpenAI,yes,\nCursor,yes,\nAnthropic,perhaps,\nGoogle,no,31/12/2027\n"
                  "Mistral AI,no,,extra\n")
    assert caught.value.errors == [
        "line 3: Cursor is a tool, not a vendor: its vendor is Anysphere",
        "line 4: listed must be yes or no, not 'perhaps'",
        "line 5: dpa_expires must be YYYY-MM-DD, not '31/12/2027'",
        "line 6: more cells than columns"]
    entries, warnings = parse_csv("vendor,listed\nopenai,yes\nAcme LLM,no\n")
    assert [e.vendor for e in entries] == ["OpenAI", "Acme LLM"] and warnings[0].startswith("line 3: Acme LLM")


def test_teams_and_register_share_one_csv_reader():
    assert parse_teams("user,team\nann,ops\n") == [("user", "ann", "ops")]
    for parse, error in ((parse_teams, TeamsError), (parse_csv, RegisterError)):
        with pytest.raises(error, match="not valid CSV"):
            parse('"a\nb')
    with pytest.raises(TeamsError, match="line 2: more cells than columns"):
        parse_teams("user,team\nann,ops,extra\n")


async def test_the_page_shows_import_errors_warnings_and_edits_in_place(client, console):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    response = await client.post("/register/import", data={
        "csrf_token": csrf, "csv": "vendor,listed\nCursor,yes\nOpenAI,maybe\n"})
    html = await response.text()
    assert response.status == 400 and 'id="register-errors"' in html and "2 problem(s)" in html
    assert "its vendor is Anysphere" in html and "line 3: listed must be yes or no" in html
    assert 'aria-current="page">Register' in html  # inside the console, not a bare text page
    # a tool's name in the form: warned, not saved
    response = await client.post("/register", data={"csrf_token": csrf, "vendor": "Cursor", "listed": "yes"})
    assert response.status == 400 and "its vendor is Anysphere" in await response.text()
    assert (await (await client.get("/api/v1/register")).json())["vendors"] == []
    # the catalog's spelling is kept; DPA link, expiry and owner are stored
    response = await client.post("/register", allow_redirects=False, data={
        "csrf_token": csrf, "vendor": "anysphere", "dpa_signed": "yes", "dpa_date": "2026-01-02",
        "dpa_expires": "2028-01-01", "dpa_url": "https://legal.example/anysphere.pdf", "owner": "grace"})
    assert response.status == 303
    [saved] = (await (await client.get("/api/v1/register")).json())["vendors"]
    assert (saved["vendor"], saved["dpa_expires"], saved["dpa_url"], saved["owner"]) == (
        "Anysphere", "2028-01-01", "https://legal.example/anysphere.pdf", "grace")
    html = await (await client.get("/register?vendor=Anysphere")).text()
    form = re.search(r'<form method="post" action="/register" class="stack".*?</form>', html, re.S).group(0)
    assert 'value="Anysphere"' in form and 'value="2028-01-01"' in form and 'value="grace"' in form
    assert 'name="dpa_signed" value="yes" checked' in form
    assert "Cursor" in html  # the vendor's tools from the catalog
    assert '<option value="Anysphere">' in html  # the picker


async def test_add_from_in_use_rows_and_findings_judged_again_at_once(client, device, make, console):
    did = device["device_id"]
    await console.post_events(client, device, [make.paste(did, action="allow", findings=[])])
    csrf = await console.sign_in(client, "admin", console.admin_password)
    html = await (await client.get("/register")).text()
    assert '<a class="add-vendor" href="/register?vendor=OpenAI#register-entry">Add OpenAI</a>' in html
    prefilled = await (await client.get("/register?vendor=OpenAI")).text()
    assert "Edit OpenAI" in prefilled and 'name="vendor" required maxlength="100" list="catalog-vendors"\n      value="OpenAI"' in prefilled
    alerts = (await (await client.get("/api/v1/alerts?status=open")).json())["alerts"]
    register_alerts = [a for a in alerts if a.get("vendor") == "OpenAI"]
    assert register_alerts
    response = await client.post("/register", allow_redirects=False, data={
        "csrf_token": csrf, "vendor": "OpenAI", "listed": "yes", "dpa_signed": "yes"})
    assert response.status == 303 and f"{len(register_alerts)}+alert" in response.headers["Location"].replace("%20", "+")
    alerts = (await (await client.get("/api/v1/alerts?status=open")).json())["alerts"]
    assert not [a for a in alerts if a.get("vendor") == "OpenAI" and a["id"] in {r["id"] for r in register_alerts}]


async def test_removing_or_downgrading_a_vendor_raises_its_findings_at_once(client, device, make, console):
    did = device["device_id"]
    await console.post_events(client, device, [make.paste(did, action="allow", findings=[])])  # ChatGPT in use
    csrf = await console.sign_in(client, "admin", console.admin_password)

    async def open_findings() -> set[str]:
        alerts = (await (await client.get("/api/v1/alerts?status=open")).json())["alerts"]
        return {a["finding_id"] for a in alerts if a.get("vendor") == "OpenAI"}

    await client.post("/register", data={"csrf_token": csrf, "vendor": "OpenAI", "listed": "yes", "dpa_signed": "yes"})
    assert await open_findings() == set()  # resolved by the save
    # the DPA unticked: "DPA missing" opens now, not at ChatGPT's next event
    await client.post("/register", data={"csrf_token": csrf, "vendor": "OpenAI", "listed": "yes"})
    assert await open_findings() == {"dpa_missing"}
    # removed: an unlisted sub-processor again, at once
    await client.post("/register/delete", data={"csrf_token": csrf, "vendor": "OpenAI", "confirm": "yes"})
    assert "unknown_subprocessor" in await open_findings()
