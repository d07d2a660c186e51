"""Shared pieces for the packaging tests: a collector on loopback, processes whose output
is read line by line, and the agent venv built once per session (from the wheelhouse)."""
from __future__ import annotations

import secrets

import pytest
from support.processes import Proc, repo_env, shadowmap_argv
from support.waiting import wait_until  # noqa: F401 - the packaging tests import it from here


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    """A real collector on 127.0.0.1 with a known enroll secret."""
    folder = tmp_path_factory.mktemp("collector")
    secret = secrets.token_urlsafe(24)
    secret_file = folder / "enroll_secret"
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    db = folder / "collector.db"
    proc = Proc(shadowmap_argv("collector", "serve", "--db", str(db), "--port", "0",
                               "--enroll-secret-file", str(secret_file)), folder / "collector.log", repo_env())
    try:
        line = proc.wait_for_line("listening on ", timeout=60)
        yield {"url": line.split()[-1], "secret": secret, "secret_file": secret_file, "db": db}
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def helpers():
    """Proc and wait_until for test modules (importlib mode: tests cannot import conftest)."""
    return Proc, wait_until
