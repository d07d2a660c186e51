"""The sub-processor register: CSV import (multipart upload) and export round trip, precise
refusals, formula-safe export, the edit form, and the retention policy setting."""
from __future__ import annotations

import csv
import io

import aiohttp
import pytest

from shadowmap.collector.alerts.register import RegisterError, parse_csv

REGISTER_CSV = (
    "vendor,dpa_signed,dpa_date,listed,data_classes,retention_days,notes,dpa_url,dpa_expires,owner\r\n"
    "OpenAI,yes,2025-11-03,yes,pii;production,30,\"Enterprise tier, zero retention requested\","
    "https://legal.example/openai-dpa.pdf,2027-11-02,legal@acme.example\r\n"
    "Anthropic,yes,2026-01-15,no,pii,,listed next quarter,,,\r\n"
    "Lovable,no,,no,,,\"marketing only; \"\"no customer data\"\"\",,,\r\n"
)


def parsed(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def upload(client, csrf: str, text: str, filename: str = "register.csv"):
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", text.encode("utf-8"), filename=filename, content_type="text/csv")
    return await client.post("/register/import", data=form, allow_redirects=False)


async def test_csv_import_then_export_round_trips(client, console):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    response = await upload(client, csrf, REGISTER_CSV)
    assert response.status == 303 and "imported+3+vendor" in response.headers["Location"].replace("%20", "+")
    exported = await (await client.get("/register.csv")).text()
    expected = sorted(parsed(REGISTER_CSV), key=lambda row: row["vendor"].lower())
    assert parsed(exported) == expected
    # importing the export changes nothing
    assert (await upload(client, csrf, exported)).status == 303
    assert await (await client.get("/register.csv")).text() == exported
    api = await (await client.get("/api/v1/register")).json()
    openai = next(v for v in api["vendors"] if v["vendor"] == "OpenAI")
    assert (openai["dpa_signed"], openai["listed"], openai["data_classes"], openai["retention_days"]) == (
        True, True, ["pii", "production"], 30)
    html = await (await client.get("/register")).text()
    assert "marketing only; &#34;no customer data&#34;" in html


@pytest.mark.parametrize("text, message", [
    ("name,dpa\nX,yes\n", "vendor is required"),
    ("vendor,dpa_signed\nX,maybe\n", "line 2: dpa_signed must be yes or no"),
    ("vendor,dpa_date\nA,2026-01-01\nB,01/02/2026\n", "line 3: dpa_date must be YYYY-MM-DD"),
    ("vendor,data_classes\nA,pii;biometrics\n", "line 2: data_classes must be among"),
    ("vendor,retention_days\nA,-1\n", "line 2: retention_days must be a whole number"),
    ("vendor,notes\nA,ok,extra\n", "line 2: more cells than columns"),
    ("vendor\n\"unterminated\n", "not valid CSV"),
    ("\"a\nb", "line 1: not valid CSV"),
    ("\r0", "vendor is required"),  # found by the fuzzer: a lone CR once crashed the header read
    ("vendor\n" + "x" * 101 + "\n", "vendor must be 1..100"),
])
def test_bad_csv_is_refused_with_the_line(text, message):
    with pytest.raises(RegisterError, match=message.replace("(", r"\(")):
        parse_csv(text)


async def test_bad_upload_changes_nothing_and_says_why(client, console):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    assert (await upload(client, csrf, REGISTER_CSV)).status == 303
    before = await (await client.get("/register.csv")).text()
    response = await upload(client, csrf, "vendor,listed\nNewCo,yes\nBadCo,perhaps\n")
    assert response.status == 400 and "line 3: listed must be yes or no" in await response.text()
    response = await upload(client, csrf, "\xff\xfe".encode("latin-1").decode("latin-1") + "garbage")
    assert response.status == 400
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", b"\xff\xfe\x00bad", filename="r.csv", content_type="text/csv")
    response = await client.post("/register/import", data=form)
    assert response.status == 400 and "UTF-8" in await response.text()
    assert await (await client.get("/register.csv")).text() == before


async def test_export_defuses_spreadsheet_formulas(client, console):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    response = await client.post("/register", allow_redirects=False, data={
        "csrf_token": csrf, "vendor": "=HYPERLINK(\"http://evil\")", "notes": "+1 call me", "listed": "yes",
        "data_classes": ["pii", "secret"], "accept_name": "yes"})
    assert response.status == 303
    [row] = parsed(await (await client.get("/register.csv")).text())
    assert row["vendor"] == "'=HYPERLINK(\"http://evil\")" and row["notes"] == "'+1 call me"
    assert (row["listed"], row["dpa_signed"], row["data_classes"]) == ("yes", "no", "pii;secret")


async def test_form_edit_delete_and_retention_policy(client, console):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    assert (await client.post("/register", data={"csrf_token": csrf, "vendor": "Mistral AI", "dpa_signed": "yes",
                                                 "dpa_date": "2026-13-01"})).status == 400
    assert (await client.post("/register", allow_redirects=False, data={
        "csrf_token": csrf, "vendor": "Mistral AI", "dpa_signed": "yes", "dpa_date": "2026-02-01"})).status == 303
    assert (await client.post("/register/retention-policy", allow_redirects=False,
                              data={"csrf_token": csrf, "days": "45"})).status == 303
    html = await (await client.get("/register")).text()
    assert '<b id="policy-days">45 days</b>' in html and '<th data-label="Vendor" scope="row">Mistral AI</th>' in html
    assert (await client.post("/register/retention-policy", data={"csrf_token": csrf, "days": "-3"})).status == 400
    # removing asks first: without the confirmation the page shows the question, and nothing goes
    response = await client.post("/register/delete", data={"csrf_token": csrf, "vendor": "Mistral AI"})
    assert response.status == 200 and "Remove Mistral AI from the register?" in await response.text()
    assert '<th data-label="Vendor" scope="row">Mistral AI</th>' in await (await client.get("/register")).text()
    assert (await client.post("/register/delete", allow_redirects=False,
                              data={"csrf_token": csrf, "vendor": "Mistral AI", "confirm": "yes"})).status == 303
    assert (await client.post("/register/delete", data={"csrf_token": csrf, "vendor": "Mistral AI",
                                                        "confirm": "yes"})).status == 404
    assert '<th data-label="Vendor" scope="row">Mistral AI</th>' not in await (await client.get("/register")).text()


async def test_register_page_lists_vendors_in_use_but_not_registered(client, device, make, console):
    did = device["device_id"]
    await console.post_events(client, device, [make.observed(did), make.paste(did, action="allow", findings=[])])
    await console.sign_in(client, "admin", console.admin_password)
    html = await (await client.get("/register")).text()
    section = html.split("In use, not in the register", 1)[1].split("</table>", 1)[0]
    assert '<td data-label="Vendor">Anthropic</td><td data-label="Tools">claude</td>' in section and '<td data-label="Vendor">OpenAI</td><td data-label="Tools">chatgpt</td>' in section
    csrf = await console.page_csrf(client, "/register")
    await client.post("/register/import", data={"csrf_token": csrf, "csv": "vendor,listed,dpa_signed\nOpenAI,yes,yes\n"})
    html = await (await client.get("/register")).text()
    assert '<td data-label="Vendor">OpenAI</td><td data-label="Tools">chatgpt</td>' not in html and '<td data-label="Vendor">Anthropic</td><td data-label="Tools">claude</td>' in html
