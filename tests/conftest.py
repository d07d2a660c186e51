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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The .deb's tests first: building the package and lintian take minutes on one worker,
    better beside the rest than after it (the same order on every worker)."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] != DEB_TESTS)


DEB_TESTS = "tests/packaging/test_deb.py"


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture(scope="module", autouse=True)
def _browser_modules_beside_no_system_install(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module marked `browser` may start its browser in a module fixture: the lock is taken
    first (autouse fixtures come first within their scope) and held until the module ends."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    with machine_lock(exclusive=False):
        yield


@pytest.fixture(autouse=True)
def _browser_tests_beside_no_system_install(request: pytest.FixtureRequest) -> Iterator[None]:
    """A single test marked `browser` in a module that is not."""
    module = request.node.getparent(pytest.Module)
    if request.node.get_closest_marker("browser") is None or (module and module.get_closest_marker("browser")):
        yield
        return
    with machine_lock(exclusive=False):
        yield
