"""Who approves the weekly report, over the real server and the real CLI: an admin names the
approver on the reports page (CSRF, admin only, checked, recorded) or with `shadowmap
collector report approver`; the report prints the name on its approval line, in HTML and
JSON; and the report says when it was generated, the same time in its summary and its
attestation."""
from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from html import unescape

from support.db_rows import db_option
from support.processes import REPO, repo_env, shadowmap_argv

APPROVER = "Dana Reyes, CISO"
WEEK_PATH = "/reports/weekly?week={week}&format={fmt}"


def this_week() -> str:
    year, week, _ = datetime.now(UTC).date().isocalendar()
    return f"{year}-W{week:02d}"


def approval_line(html: str) -> str:
    return unescape(re.search(r'<p id="approval">Approved by: <span class="signline">([^<]*)</span>', html).group(1))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(shadowmap_argv("collector", "report", *args), cwd=REPO, env=repo_env(),
                          capture_output=True, text=True, timeout=120)


async def test_an_admin_names_the_approver_and_the_report_prints_it(client, config, console, make):
    csrf = await console.sign_in(client, "admin", console.admin_password)
    week = this_week()
    html = await (await client.get(WEEK_PATH.format(week=week, fmt="html"))).text()
    assert approval_line(html) == ""  # nobody named: left blank to sign by hand
    page = await (await client.get("/reports")).text()
    assert "Nobody is named on the reports' approval line" in page and 'id="approver-input"' in page

    response = await client.post("/reports/approver", data={"csrf_token": csrf, "action": "set",
                                                            "approver": f"  {APPROVER}\n "}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/reports?msg=")
    page = await (await client.get(response.headers["Location"])).text()
    assert f"Each report names <b>{APPROVER}</b>" in page and "Report approver: Dana Reyes, CISO" in page
    assert approval_line(await (await client.get(WEEK_PATH.format(week=week, fmt="html"))).text()) == APPROVER
    report = await (await client.get(WEEK_PATH.format(week=week, fmt="json"))).json()
    assert report["approval"] == {"approver": APPROVER, "approved_at": None}
    [entry] = make.select_rows(config.db_path, "SELECT actor, detail FROM record_entries "
                                               "WHERE kind = 'admin' AND subject = 'report'")
    assert entry["actor"] == "admin" and json.loads(entry["detail"]) == {"action": "approver", "approver": APPROVER}

    for bad in ("   ", "x" * 201, "Dana\x07Reyes"):  # refused inside the layout, the name kept
        refused = await client.post("/reports/approver", data={"csrf_token": csrf, "action": "set", "approver": bad})
        assert refused.status == 400 and '<nav class="main"' in await refused.text(), repr(bad)
    assert approval_line(await (await client.get(WEEK_PATH.format(week=week, fmt="html"))).text()) == APPROVER

    await client.post("/reports/approver", data={"csrf_token": csrf, "action": "clear"})
    assert approval_line(await (await client.get(WEEK_PATH.format(week=week, fmt="html"))).text()) == ""


async def test_only_an_admin_names_the_approver(client, console):
    await console.add_account(client, "ana", "analyst")
    csrf = await console.sign_in(client, "ana")
    page = await (await client.get("/reports")).text()
    assert 'id="approver-input"' not in page
    response = await client.post("/reports/approver", data={"csrf_token": csrf, "approver": "Ana"})
    assert response.status == 403
    await console.sign_in(client, "admin", console.admin_password)
    assert (await client.post("/reports/approver", data={"approver": "no CSRF"})).status == 403
    assert "Nobody is named" in await (await client.get("/reports")).text()


async def test_the_cli_sets_shows_and_clears_the_approver(client, config, console, make):
    db = db_option(config.db_path)
    shown = run_cli("approver", "--db", db)
    assert shown.returncode == 0 and "nobody is named" in shown.stdout, shown.stderr
    set_it = run_cli("approver", APPROVER, "--db", db, "--actor", "ops:dana")
    assert set_it.returncode == 0 and set_it.stdout.strip() == f"report approver: {APPROVER}", set_it.stderr
    assert run_cli("approver", "--db", db).stdout.strip() == APPROVER
    # the running collector's report names them
    await console.sign_in(client, "admin", console.admin_password)
    html = await (await client.get(WEEK_PATH.format(week=this_week(), fmt="html"))).text()
    assert approval_line(html) == APPROVER
    # and so does the CLI's own report
    report = run_cli("weekly", "--week", this_week(), "--format", "json", "--db", db)
    assert report.returncode == 0 and json.loads(report.stdout)["approval"]["approver"] == APPROVER, report.stderr
    bad = run_cli("approver", "x" * 201, "--db", db)
    assert bad.returncode == 2 and "at most 200 characters" in bad.stderr
    assert run_cli("approver", APPROVER, "--clear", "--db", db).returncode == 2
    assert run_cli("approver", "--clear", "--db", db).stdout.strip() == "report approver cleared"
    assert "nobody is named" in run_cli("approver", "--db", db).stdout
    actors = [row["actor"] for row in make.select_rows(
        config.db_path, "SELECT actor FROM record_entries WHERE kind = 'admin' AND subject = 'report' ORDER BY seq")]
    assert actors[0] == "ops:dana" and actors[1].startswith("cli:") and len(actors) == 2


async def test_the_report_says_when_it_was_generated(client, console):
    await console.sign_in(client, "admin", console.admin_password)
    week = this_week()
    before = datetime.now(UTC).replace(microsecond=0)
    report = await (await client.get(WEEK_PATH.format(week=week, fmt="json"))).json()
    html = await (await client.get(WEEK_PATH.format(week=week, fmt="html"))).text()
    after = datetime.now(UTC)
    generated = report["generated_at"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", generated), generated
    assert before <= datetime.fromisoformat(generated.replace("Z", "+00:00")) <= after
    assert report["attestation"]["generated_at"] == generated  # the signed attestation holds the same time
    shown = re.search(r"<th scope=\"row\">generated at \(UTC\)</th><td>([^<]+)</td>", html).group(1)
    moment = datetime.fromisoformat(shown.replace("Z", "+00:00"))
    assert before <= moment <= after + timedelta(seconds=1)
