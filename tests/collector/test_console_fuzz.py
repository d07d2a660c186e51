"""Fuzzing the console and webhook APIs of a real `shadowmap collector serve` process with
hypothesis: whatever a signed-in analyst/admin, an API token holder or a (correctly signed)
webhook sends, the answer is never a 5xx, and the server logs no unhandled exception.

SHADOWMAP_FUZZ_EXAMPLES sets the examples per property (small in the suite; `make fuzz`
runs 10,000)."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sqlite3
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.processes import start_collector

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SHADOWMAP_FUZZ_EXAMPLES", "50"))
PASSWORD = "fuzzing admin password"
GITHUB_SECRET, GITLAB_TOKEN = "fuzz-github-secret-000000", "fuzz-gitlab-token-000000"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

text = st.text(max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
                           max_leaves=30)


class Server:
    def __init__(self, url: str, log_path: Path, db_path: Path) -> None:
        self.url, self.log_path, self.db_path = url, log_path, db_path
        self.session = requests.Session()
        self.csrf = ""
        self.responses = 0
        self.device_id = self.node_key = ""

    def sign_in(self) -> None:
        page = self.session.get(self.url + "/login", timeout=10)
        token = CSRF_FIELD.search(page.text).group(1)
        reply = self.session.post(self.url + "/login", data={"csrf_token": token, "username": "admin",
                                                             "password": PASSWORD}, timeout=10)
        assert reply.status_code == 200 and "/alerts" in reply.url
        self.csrf = CSRF_FIELD.search(reply.text).group(1)

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(method, self.url + path, allow_redirects=False, timeout=30, **kwargs)
        self.responses += 1
        assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
        return response


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with start_collector(tmp_path_factory.mktemp("fuzz-collector"), PASSWORD) as collector:
        db = sqlite3.connect(collector.db_path)
        with db:
            for name, value in (("scm_github_secret", GITHUB_SECRET), ("scm_gitlab_token", GITLAB_TOKEN)):
                db.execute("INSERT OR REPLACE INTO org_settings (name, value) VALUES (?, ?)", (name, value))
        db.close()
        running = Server(collector.url, collector.log_path, collector.db_path)
        running.sign_in()
        enrolled = requests.post(running.url + "/api/v1/enroll", timeout=10, json={
            "enroll_secret": collector.enroll_secret, "host_identifier": "fuzz-host", "hostname": "fuzz",
            "os": "linux"}).json()
        running.device_id, running.node_key = enrolled["device_id"], enrolled["node_key"]
        yield running
    log_text = collector.log_path.read_text()
    for marker in ("Traceback", "internal error"):
        at = log_text.find(marker)
        assert at < 0, log_text[max(0, at - 500):at + 3000]


FILTER_NAMES = ("severity", "finding", "tool", "team", "status", "date_from", "date_to", "assignee", "limit", "days")


@FUZZ_SETTINGS
@given(params=st.dictionaries(st.sampled_from(FILTER_NAMES), text, max_size=6),
       path=st.sampled_from(["/alerts", "/api/v1/alerts", "/inventory", "/unknown-tools", "/register",
                             "/false-positives", "/api/v1/register", "/register.csv", "/reports"]))
@example(params={"limit": "\u00b2"}, path="/api/v1/alerts")
@example(params={"days": "9" * 5000}, path="/inventory")
def test_console_reads_never_fail(server, params, path):
    response = server.send("GET", path, params=params)
    assert response.status_code in (200, 400)


@FUZZ_SETTINGS
@given(week=st.one_of(text, st.from_regex(r"\A[0-9]{4}-W[0-9]{2}\Z")),
       fmt=st.one_of(st.sampled_from(["html", "csv", "json"]), text))
@example(week="2026-W53", fmt="json")  # 2026 has 52 ISO weeks
@example(week="9999-W52", fmt="html")  # its week ends past the last date Python has
@example(week="\u00b2\u00b2\u00b2\u00b2-W01", fmt="csv")
def test_weekly_report_reads_never_fail(server, week, fmt):
    response = server.send("GET", "/reports/weekly", params={"week": week, "format": fmt})
    assert response.status_code in (200, 400)


@FUZZ_SETTINGS
@given(alert=st.one_of(st.integers(min_value=-5, max_value=10**15).map(str), text.filter(lambda s: "/" not in s)),
       form=st.dictionaries(st.sampled_from(["action", "note", "assignee"]),
                            st.one_of(text, st.sampled_from(["acknowledge", "resolve", "false_positive", "reopen",
                                                             "assign", "comment", "admin"])), max_size=3))
@example(alert="\u00b2", form={})  # a superscript digit passes str.isdigit() and once crashed int()
def test_triage_posts_never_fail(server, alert, form):
    server.send("POST", f"/alerts/{requests.utils.quote(alert, safe='')}/triage", data={**form, "csrf_token": server.csrf})


@FUZZ_SETTINGS
@given(csv_text=st.one_of(text, st.lists(st.lists(text, max_size=8), max_size=6).map(
           lambda rows: "vendor,dpa_signed,dpa_date,listed,data_classes,retention_days,notes\n"
                        + "\n".join(",".join(row) for row in rows))),
       target=st.sampled_from(["/register/import", "/admin/teams/import"]))
@example(csv_text="\r0", target="/register/import")  # once crashed the header read
@example(csv_text="\r0", target="/admin/teams/import")
def test_csv_imports_never_fail(server, csv_text, target):
    response = server.send("POST", target, data={"csrf_token": server.csrf, "csv": csv_text})
    assert response.status_code in (303, 400)


@FUZZ_SETTINGS
@given(form=st.dictionaries(st.sampled_from(["vendor", "dpa_signed", "dpa_date", "listed", "data_classes",
                                             "retention_days", "notes", "days", "kind", "name", "decision",
                                             "tool_id", "provider", "username", "role", "password"]), text, max_size=8),
       target=st.sampled_from(["/register", "/register/delete", "/register/retention-policy", "/unknown-tools/decide",
                               "/admin/accounts/role", "/admin/tokens", "/admin/scm-secret"]))
@example(form={"days": "\u00b9"}, target="/register/retention-policy")
@example(form={"retention_days": "9" * 5000, "vendor": "V"}, target="/register")
def test_admin_forms_never_fail(server, form, target):
    if target == "/admin/accounts/role" and form.get("username") == "admin":
        form["username"] = "someone-else"  # demoting the fuzzing admin would end the run, not find a bug
    if target == "/admin/scm-secret":
        form.pop("provider", None)  # regenerating the webhook secret would break the webhook property
    server.send("POST", target, data={**form, "csrf_token": server.csrf})


@FUZZ_SETTINGS
@given(payload=json_values, event=st.sampled_from(["pull_request", "pull_request_review", "push", "deployment_status",
                                                     "ping", "issues"]),
       shaped=st.fixed_dictionaries({"action": st.sampled_from(["closed", "submitted", "dismissed"]),
                                     "repository": st.fixed_dictionaries({"full_name": text}),
                                     "pull_request": st.dictionaries(st.sampled_from(
                                         ["number", "merged", "user", "body", "head", "merged_at", "title"]),
                                         json_values, max_size=7)}))
@example(payload={"repository": {"full_name": "a/b"}, "pull_request": {"number": 10**30}, "review": {
    "user": {"login": "x"}, "state": "approved"}}, event="pull_request_review", shaped={})
def test_signed_github_deliveries_never_fail(server, payload, event, shaped):
    for body in (payload, shaped):
        raw = json.dumps(body).encode()
        signature = "sha256=" + hmac.new(GITHUB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        response = server.send("POST", "/api/v1/scm/github", data=raw,
                               headers={"X-GitHub-Event": event, "X-Hub-Signature-256": signature})
        assert response.status_code in (200, 400)


@FUZZ_SETTINGS
@given(payload=json_values, event=st.sampled_from(["Merge Request Hook", "Push Hook", "Deployment Hook", "Note Hook"]),
       attrs=st.dictionaries(st.sampled_from(["iid", "action", "author_id", "title", "description", "last_commit",
                                              "updated_at", "source_branch"]), json_values, max_size=8))
def test_gitlab_deliveries_never_fail(server, payload, event, attrs):
    shaped = {"project": {"path_with_namespace": "g/p"}, "user": {"id": 1, "username": "u"}, "object_attributes": attrs}
    for body in (payload, shaped):
        response = server.send("POST", "/api/v1/scm/gitlab", json=body,
                               headers={"X-Gitlab-Event": event, "X-Gitlab-Token": GITLAB_TOKEN})
        assert response.status_code in (200, 400)


def _event_like(device_id: str):
    """Events near the contract: right envelope, fuzzed data (the shapes the alert rules read)."""
    finding = st.fixed_dictionaries({"entity_type": st.sampled_from(["AWS_ACCESS_KEY", "EMAIL_ADDRESS", "X"]),
                                     "data_class": st.sampled_from(["secret", "pii", "payment", "production", "x"]),
                                     "count": st.integers(-1, 3), "score": st.floats(0, 1),
                                     "hashes": st.lists(st.sampled_from(["a" * 64, "b" * 64, "zz"]), max_size=3)})
    data = st.fixed_dictionaries({}, optional={
        "tool_id": st.one_of(st.none(), st.sampled_from(["chatgpt", "claude", "nope", "BAD ID"])),
        "domain": st.sampled_from(["chatgpt.com", "x.ai", "bad domain", "chat.newmodel.ai"]),
        "source": st.sampled_from(["extension", "process", "network", "listener", "x"]),
        "process": text, "channel": st.sampled_from(["paste", "drop", "x"]),
        "action": st.sampled_from(["allow", "warn", "block", "redact", "x"]),
        "data_classes": st.lists(st.sampled_from(["secret", "pii", "x"]), max_size=2, unique=True),
        "findings": st.lists(finding, max_size=3), "path": text, "port": st.integers(0, 70000)})
    return st.fixed_dictionaries({
        "schema": st.just("shadowmap.event/1"), "id": st.uuids().map(str),
        "type": st.sampled_from(["paste.scanned", "ai_tool.observed", "ai_config.finding", "agent.heartbeat", "x"]),
        "device_id": st.just(device_id), "user": st.one_of(text, st.just("alice")),
        "ts": st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00+02:00", "yesterday"]), "data": data})


@FUZZ_SETTINGS
@given(data=st.data())
def test_ingest_never_fails(server, data):
    events = data.draw(st.lists(st.one_of(_event_like(server.device_id), json_values), max_size=8))
    response = server.send("POST", "/api/v1/events", json={"events": events},
                           headers={"Authorization": f"Bearer {server.node_key}"})
    assert response.status_code in (200, 400, 413, 429)
    if response.status_code == 200:
        body = response.json()
        assert len(body["acked"]) + len(body["rejected"]) <= len(events)
