"""Fixtures for the collector tests: a real app on a loopback server with a real SQLite
file, an enrolled device, and factories for events shaped as events.v1 demands."""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from aiohttp.web import AppRunner
from support import pg_cluster as pg_fixtures
from support.db_rows import PG_DATABASES
from support.db_rows import count as count_rows
from support.db_rows import rows as select_rows

from shadowmap import contract
from shadowmap.collector.app import create_app, make_runner
from shadowmap.collector.config import CollectorConfig

ADMIN_PASSWORD = "correct horse battery staple"


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fake_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def finding(entity_type: str = "AWS_ACCESS_KEY", data_class: str = "secret", count: int = 1) -> dict:
    return {"entity_type": entity_type, "data_class": data_class, "count": count, "score": 0.95,
            "hashes": [fake_hash(f"{entity_type}-{n}") for n in range(count)], "reason": "test finding"}


def paste_event(device_id: str, *, user: str = "alice", action: str = "block", tool_id: str | None = "chatgpt",
                domain: str = "chatgpt.com", findings: list[dict] | None = None, ts: str | None = None,
                **overrides: Any) -> dict:
    findings = [finding()] if findings is None else findings
    event = {
        "schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "paste.scanned",
        "device_id": device_id, "user": user, "ts": ts or now_ts(),
        "data": {"channel": "paste", "tool_id": tool_id, "domain": domain,
                 "data_classes": sorted({f["data_class"] for f in findings}), "findings": findings,
                 "action": action, "reason": "policy", "text_length": 120, "elapsed_ms": 4.2},
    }
    event.update(overrides)
    contract.validate_event(event)
    return event


def heartbeat_event(device_id: str, **overrides: Any) -> dict:
    event = {
        "schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "agent.heartbeat",
        "device_id": device_id, "user": "alice", "ts": now_ts(),
        "data": {"agent_version": "0.1.0", "hostname": "laptop-1", "os": "linux", "spool_depth": 0},
    }
    event.update(overrides)
    contract.validate_event(event)
    return event


def observed_event(device_id: str, **overrides: Any) -> dict:
    event = {
        "schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": "ai_tool.observed",
        "device_id": device_id, "user": "alice", "ts": now_ts(),
        "data": {"tool_id": "claude", "source": "extension", "domain": "claude.ai", "browser": "chrome"},
    }
    event.update(overrides)
    contract.validate_event(event)
    return event


async def approve_vendors(client, *vendors: str) -> None:
    """Put vendors in the register, listed and under a DPA, so their tools raise no register findings."""
    from shadowmap.collector.alerts.register import Entry, upsert
    from shadowmap.collector.state import STORE

    entries = [Entry(vendor, dpa_signed=True, dpa_date="2026-01-01", listed=True) for vendor in vendors]
    await client.app[STORE].write(lambda db: upsert(db, entries, "tests"))


@pytest.fixture
def make() -> SimpleNamespace:
    """The factories above, for tests (conftest modules are not importable by tests)."""
    return SimpleNamespace(paste=paste_event, heartbeat=heartbeat_event, observed=observed_event,
                           finding=finding, count_rows=count_rows, select_rows=select_rows, enroll=enroll,
                           start_client=start_client, approve_vendors=approve_vendors)


BACKENDS = ("sqlite", "postgresql")
pg_cluster = pg_fixtures.pg_cluster  # the session's throwaway PostgreSQL (started when a test asks)
pg_url = pg_fixtures.pg_url          # a fresh database on it, per test


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run each test whose collector has a store once per "
                                       "backend (SQLite, PostgreSQL)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `pytestmark = pytest.mark.both_backends`: the tests of the module that open a store
    # (through config) run on each backend; the others (parsing, limits) once.
    if metafunc.definition.get_closest_marker("both_backends") and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The store's backend: each for a test marked both_backends, else sqlite (or
    SHADOWMAP_TEST_BACKEND=postgresql: the whole collector suite on PostgreSQL)."""
    return getattr(request, "param", os.environ.get("SHADOWMAP_TEST_BACKEND", "sqlite"))


@pytest.fixture
def config(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> CollectorConfig:
    if backend == "postgresql":  # a fresh database on the session's cluster; files stay in tmp_path
        url = request.getfixturevalue("pg_url")
        PG_DATABASES[tmp_path / "collector.db"] = url
        request.addfinalizer(lambda: PG_DATABASES.pop(tmp_path / "collector.db", None))
        # tests read alerts right after an upload: each upload waits for its lane pass (the acks
        # before the pass are test_ingest_lane's)
        return CollectorConfig(db_path=tmp_path / "collector.db", db_url=url, admin_password=ADMIN_PASSWORD,
                               lane_ack_wait_seconds=None)
    return CollectorConfig(db_path=tmp_path / "collector.db", admin_password=ADMIN_PASSWORD)


class CollectorTestServer(TestServer):
    """A loopback test server whose runner is configured the way production serves the app
    (aiohttp's TestServer drops runner keyword arguments, so pass them here)."""

    async def _make_runner(self, **kwargs: Any) -> AppRunner:
        return make_runner(self.app, **kwargs)


async def start_client(aiohttp_client, config: CollectorConfig, app=None):
    return await aiohttp_client(CollectorTestServer(app or create_app(config)))


@pytest.fixture
async def client(aiohttp_client, config: CollectorConfig):
    return await start_client(aiohttp_client, config)


async def enroll(client, config: CollectorConfig, host_identifier: str = "host-uuid-1") -> dict:
    secret = config.enroll_secret_path.read_text().strip()
    response = await client.post("/api/v1/enroll", json={
        "enroll_secret": secret, "host_identifier": host_identifier, "hostname": "laptop-1", "os": "linux",
    })
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.fixture
async def device(client, config: CollectorConfig) -> dict:
    """An enrolled device: {"device_id", "node_key", "org_key", "headers"}."""
    enrolled = await enroll(client, config)
    enrolled["headers"] = {"Authorization": f"Bearer {enrolled['node_key']}"}
    return enrolled


# ---- console helpers: accounts with roles, signing in, CSRF tokens of pages -----------------

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
USER_PASSWORD = "a long enough test password"


async def add_account(client, username: str, role: str) -> None:
    from shadowmap.collector.principals import hash_password
    from shadowmap.collector.state import STORE
    from shadowmap.collector.store.sqlite.accounts import create_account

    password_hash = hash_password(USER_PASSWORD)
    await client.app[STORE].write(lambda db: create_account(db, username, password_hash, role))


async def sign_in(client, username: str, password: str = USER_PASSWORD) -> str:
    """Sign in on this client (replacing any session); returns the session's CSRF token."""
    client.session.cookie_jar.clear()
    page = await client.get("/login")
    token = CSRF_FIELD.search(await page.text()).group(1)
    response = await client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                                 allow_redirects=False)
    assert response.status == 303, await response.text()
    return await page_csrf(client, "/alerts")


async def page_csrf(client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, (path, response.status)
    return CSRF_FIELD.search(await response.text()).group(1)


async def post_events(client, device: dict, events: list[dict]) -> dict:
    response = await client.post("/api/v1/events", json={"events": events}, headers=device["headers"])
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["rejected"] == [], body["rejected"]
    return body


@pytest.fixture
def console() -> SimpleNamespace:
    return SimpleNamespace(add_account=add_account, sign_in=sign_in, page_csrf=page_csrf, post_events=post_events,
                           admin_password=ADMIN_PASSWORD, password=USER_PASSWORD)
