"""The organisation's detectors reach the laptops with the policy: an admin sets a
customer-ID format in the console of a real collector (a `collector serve` process), the
real agent daemon (enrolled with it, pulling its policy) swaps its org recognizers without a
restart, and a scan through the agent's IPC finds a value of that format it did not find
before. The engine swap itself: a scan in progress finishes with the set it started with,
and a version that fails the checks leaves the current set in place."""
from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from support.processes import start_collector

from shadowmap.detectors.engine import DetectorSettings, ScanEngine
from shadowmap.detectors.org_config import parse_org_config

ADMIN_PASSWORD = "org detectors test admin password"
CUSTOMER = "Please look up customer CUST-004211 before the call."
DOCUMENT = """version: 1
identifiers:
  - entity_type: ORG_CUSTOMER_ID
    pattern: '\\bCUST-\\d{6}\\b'
    reason: Acme customer ID
    context: [customer]
"""
PULL_BOUND_S = 30
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def types_found(reply: dict) -> set[str]:
    assert reply["type"] == "verdict", reply
    return {f["entity_type"] for f in reply["findings"]}


def csrf(session: requests.Session, url: str) -> str:
    response = session.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code)
    match = CSRF.search(response.text)
    assert match, url
    return match.group(1)


def test_a_format_set_in_the_console_is_found_by_the_agent_without_a_restart(tmp_path, procs, connect):
    workdir = tmp_path / "c"
    workdir.mkdir()
    with start_collector(workdir, ADMIN_PASSWORD) as collector:
        state, sock = tmp_path / "state", tmp_path / "run" / "agent.sock"
        agent = procs.agent(state, sock, collector.url, "--enroll-secret-file", str(workdir / "enroll_secret"))
        scan = {"type": "scan", "channel": "paste", "url": "https://chatgpt.com/c/7", "text": CUSTOMER}
        assert "ORG_CUSTOMER_ID" not in types_found(connect(sock).request(scan))

        console = requests.Session()
        token = csrf(console, f"{collector.url}/login")
        signed_in = console.post(f"{collector.url}/login", timeout=30, allow_redirects=False,
                                 data={"csrf_token": token, "username": "admin", "password": ADMIN_PASSWORD})
        assert signed_in.status_code == 303, signed_in.text[:300]
        token = csrf(console, f"{collector.url}/admin/org-detectors")
        saved = console.post(f"{collector.url}/admin/org-detectors", timeout=30, allow_redirects=False,
                             data={"csrf_token": token, "org_detectors": DOCUMENT})
        assert saved.status_code == 303, saved.text[-500:]

        deadline = time.monotonic() + PULL_BOUND_S     # the agent pulls every 0.5 s here
        while True:
            reply = connect(sock).request(scan)
            if "ORG_CUSTOMER_ID" in types_found(reply):
                break
            assert time.monotonic() < deadline, f"not found after {PULL_BOUND_S}s:\n{agent.log_path.read_text()[-3000:]}"
            time.sleep(0.5)
        [finding] = [f for f in reply["findings"] if f["entity_type"] == "ORG_CUSTOMER_ID"]
        assert (finding["data_class"], finding["reason"]) == ("production", "Acme customer ID")
        assert agent.popen.poll() is None                  # the same process: no restart
        assert "org detectors updated: 1 identifier formats" in agent.log_path.read_text()


@pytest.fixture(scope="module")
def own_engine():
    """An engine of this module's own: these tests change its org set."""
    return ScanEngine(DetectorSettings(org_config=None))


def test_the_policy_swaps_the_engines_org_set_once_per_version(own_engine):
    from shadowmap.agent.org_detectors import OrgDetectorSync

    sync = OrgDetectorSync(own_engine)
    assert not sync.apply({"version": 1, "rules": []})               # no org_detectors: nothing changes
    assert "ORG_CUSTOMER_ID" not in {f.entity_type for f in own_engine.scan(CUSTOMER)}
    document = {"version": 1, "identifiers": [{"entity_type": "ORG_CUSTOMER_ID", "pattern": "\\bCUST-\\d{6}\\b",
                                               "reason": "Acme customer ID"}]}
    assert sync.apply({"org_detectors": document})
    assert "ORG_CUSTOMER_ID" in {f.entity_type for f in own_engine.scan(CUSTOMER)}
    assert own_engine.data_class_of("ORG_CUSTOMER_ID") == "production"
    assert not sync.apply({"org_detectors": dict(document)})          # the same version again: no rebuild

    # a version the collector would have refused (a known ReDoS pattern) is refused here too
    redos = {"version": 1, "identifiers": [{"entity_type": "ORG_TICKET", "pattern": "^(\\w+\\s?)+$", "reason": "t"}]}
    assert not sync.apply({"org_detectors": redos})
    assert "ORG_CUSTOMER_ID" in own_engine.entities and "ORG_TICKET" not in own_engine.entities

    assert sync.apply({"org_detectors": {"version": 1}})               # emptied: the format goes
    assert "ORG_CUSTOMER_ID" not in {f.entity_type for f in own_engine.scan(CUSTOMER)}


def test_a_scan_in_progress_finishes_with_the_set_it_started_with(own_engine):
    own_engine.use_org_config(parse_org_config({"version": 1}))
    # long enough to take a while (the recognizers read all of it), the value at its end
    text = ("lorem ipsum dolor sit amet 12345 " * 30_000)[:1_000_000] + "\ncustomer CUST-004211\n"
    result: dict = {}
    started = threading.Event()

    def scan() -> None:
        started.set()
        began = time.monotonic()
        result["findings"] = own_engine.scan(text)
        result["seconds"] = time.monotonic() - began

    worker = threading.Thread(target=scan)
    worker.start()
    started.wait(10)
    time.sleep(0.05)
    swapped_at = time.monotonic()
    own_engine.use_org_config(parse_org_config({"version": 1, "identifiers": [
        {"entity_type": "ORG_CUSTOMER_ID", "pattern": "\\bCUST-\\d{6}\\b", "reason": "Acme customer ID"}]}))
    swap_seconds = time.monotonic() - swapped_at
    worker.join(60)
    assert result["seconds"] > 0.05 + swap_seconds, result["seconds"]   # the swap happened mid-scan
    assert "ORG_CUSTOMER_ID" not in {f.entity_type for f in result["findings"]}
    assert "ORG_CUSTOMER_ID" in {f.entity_type for f in own_engine.scan(text[-200:])}


def test_the_daemon_applies_the_cached_policys_set_at_start(tmp_path, own_engine, catalog, summarize):
    """A restarted agent scans with the org detectors of the policy it pulled last, before
    it reaches the collector again."""
    import json

    from shadowmap import contract
    from shadowmap.agent.config import load_config
    from shadowmap.agent.daemon import AgentDaemon

    own_engine.use_org_config(parse_org_config({"version": 1}))
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "run" / "agent.sock",
                         collector_url="http://127.0.0.1:9", mode="user", env={"SHADOWMAP_AGENT_CONFIG": ""},
                         discovery=False)
    config.state_dir.mkdir(parents=True)
    document = {"version": 1, "identifiers": [{"entity_type": "ORG_CUSTOMER_ID", "pattern": "\\bCUST-\\d{6}\\b",
                                               "reason": "Acme customer ID"}]}
    config.policy_path.write_text(json.dumps({"policy": {**contract.default_policy(), "org_detectors": document},
                                              "etag": '"cached"'}), "utf-8")
    daemon = AgentDaemon(config, own_engine, catalog, summarize)
    try:
        assert daemon.org_detectors is not None and daemon.org_detectors.applied is not None
        assert "ORG_CUSTOMER_ID" in {f.entity_type for f in own_engine.scan(CUSTOMER)}
    finally:
        daemon.spool.close()
