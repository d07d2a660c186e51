"""`make fuzz` for the unauthenticated and account endpoints (issue 16): enrollment, the
login form, the account lifecycle forms and query-string notices of a real `shadowmap
collector serve` process, fuzzed with hypothesis. Whatever arrives, the answer is never a
5xx and the server logs no unhandled exception. (Ingest, the console pages and webhooks:
tests/collector/test_console_fuzz.py.)

The server trusts loopback as a proxy and each request comes "for" another address, so the
per-address enroll and login limits let the fuzzing reach the handlers.
SHADOWMAP_FUZZ_EXAMPLES sets the examples per property (small in the suite; `make fuzz` runs
10,000 each: 50,000 requests)."""
from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.processes import CollectorProcess, Proc, repo_env, shadowmap_argv

EXAMPLES = int(os.environ.get("SHADOWMAP_FUZZ_EXAMPLES", "50"))
# a sign-in verifies an argon2 hash: 10,000 of them take longer than the suite's 300 s per test
pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(max(300, EXAMPLES))]
PASSWORD = "fuzzing admin password"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
PROPERTIES = 5

text = st.text(max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
                           max_leaves=30)
_addresses = (str(ipaddress.ip_address("10.0.0.0") + n) for n in itertools.count(1))


class Server:
    def __init__(self, process: CollectorProcess) -> None:
        self.url, self.log_path, self.enroll_secret = process.url, process.log_path, process.enroll_secret
        self.session = requests.Session()
        self.csrf = ""
        self.responses = 0

    def send(self, method: str, path: str, session: requests.Session | None = None, **kwargs) -> requests.Response:
        headers = {**kwargs.pop("headers", {}), "X-Forwarded-For": next(_addresses)}
        response = (session or self.session).request(method, self.url + path, allow_redirects=False, timeout=30,
                                                     headers=headers, **kwargs)
        self.responses += 1
        assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
        return response

    def sign_in(self) -> None:
        page = self.send("GET", "/login")
        token = CSRF_FIELD.search(page.text).group(1)
        reply = self.send("POST", "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD})
        assert reply.status_code == 303
        self.csrf = CSRF_FIELD.search(self.send("GET", "/alerts").text).group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz-enroll")
    proc = Proc(shadowmap_argv("collector", "serve", "--db", str(workdir / "collector.db"), "--host", "127.0.0.1",
                               "--port", "0", "--trusted-proxy", "127.0.0.1/32"),
                workdir / "collector.log", repo_env({"SHADOWMAP_ADMIN_PASSWORD": PASSWORD}))
    try:
        url = proc.wait_for_line("listening on ", 60).split()[-1]
        running = Server(CollectorProcess(url, workdir / "collector.db", workdir / "collector.log",
                                          (workdir / "enroll_secret").read_text().strip(), proc))
        running.sign_in()
        yield running
    finally:
        proc.stop()
    assert running.responses >= PROPERTIES * EXAMPLES
    log_text = (workdir / "collector.log").read_text()
    for marker in ("Traceback", "internal error"):
        at = log_text.find(marker)
        assert at < 0, log_text[max(0, at - 500):at + 3000]


ENROLL_FIELDS = ("enroll_secret", "host_identifier", "hostname", "os", "mode", "os_user", "node_key")


@FUZZ_SETTINGS
@given(body=st.one_of(json_values, st.dictionaries(st.sampled_from(ENROLL_FIELDS), json_values, max_size=7)),
       use_secret=st.booleans())
@example(body={"host_identifier": "h", "hostname": "\ud800", "os": "linux"}, use_secret=True)
@example(body={"host_identifier": "x" * 300, "hostname": "h", "os": "linux"}, use_secret=True)
def test_enroll_never_fails(server, body, use_secret):
    if isinstance(body, dict) and use_secret:
        body = {**body, "enroll_secret": server.enroll_secret}
    raw = json.dumps(body, ensure_ascii=True).encode()
    response = server.send("POST", "/api/v1/enroll", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 202, 400, 403, 409, 413, 429)  # 202: a known host waits for approval


@FUZZ_SETTINGS
@given(raw=st.one_of(st.binary(max_size=2000), st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n)))
def test_enroll_raw_bodies_never_fail(server, raw):
    response = server.send("POST", "/api/v1/enroll", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 403, 413, 429)


@FUZZ_SETTINGS
@given(form=st.dictionaries(st.sampled_from(["username", "password", "csrf_token", "next"]), text, max_size=4),
       with_csrf=st.booleans())
def test_login_never_fails(server, form, with_csrf):
    session = requests.Session()
    if with_csrf:
        page = server.send("GET", "/login", session=session)
        form = {**form, "csrf_token": CSRF_FIELD.search(page.text).group(1)}
    response = server.send("POST", "/login", session=session, data=form)
    assert response.status_code in (303, 400, 401, 403, 429)


LIFECYCLE_FORMS = ["/admin/accounts/disable", "/admin/accounts/enable", "/admin/accounts/delete",
                   "/admin/accounts/password", "/admin/tokens/revoke", "/admin/tokens", "/account/password",
                   "/admin/accounts", "/admin/accounts/role", "/account/time-zone"]


@FUZZ_SETTINGS
@given(target=st.sampled_from(LIFECYCLE_FORMS),
       form=st.dictionaries(st.sampled_from(["username", "password", "role", "token_id", "name", "days",
                                             "current_password", "new_password", "time_zone"]),
                            st.one_of(text, st.sampled_from(["viewer", "admin", "0", "366", "9" * 30, "-1",
                                                             "Europe/Berlin", "../../etc/passwd"])),
                            max_size=5))
def test_account_lifecycle_forms_never_fail(server, target, form):
    if form.get("username") == "admin":  # keep the fuzzing session: its own account stays as it is
        form = {**form, "username": "someone"}
    if target == "/account/password":
        form.pop("current_password", None)  # never the right one, so the admin's password stays
    server.send("POST", target, data={**form, "csrf_token": server.csrf})


@FUZZ_SETTINGS
@given(path=st.sampled_from(["/alerts", "/admin", "/register", "/account/password", "/admin/devices"]),
       msg=text, sig=st.one_of(text, st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)))
def test_notices_from_the_query_string_are_never_shown(server, path, msg, sig):
    response = server.send("GET", path, params={"msg": msg, "sig": sig})
    assert response.status_code == 200
    if len(msg.strip()) >= 8 and msg in response.text:
        # only where the page holds that text anyway (a run of digits in a token, a word of it)
        assert msg in server.send("GET", path).text, msg
