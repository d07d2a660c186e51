"""For every test: the process umask is put back afterwards. `shadowmap collector` commands
set 077 for their process (collector/cli.py), and tests call them in-process: a later test
must not inherit it unnoticed (each umask-sensitive test sets its own). A test that drives a
browser holds the machine lock shared (tests/support/machine_lock.py): the .deb's install
test writes the browsers' system-wide folders, and waits until no browser runs."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from support.machine_lock import machine_lock


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture(autouse=True)
def _browsers_beside_no_system_install(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    with machine_lock(exclusive=False):
        yield
