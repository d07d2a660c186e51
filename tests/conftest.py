"""For every test: the process umask is put back afterwards. `shadowmap collector` commands
set 077 for their process (collector/cli.py), and tests call them in-process: a later test
must not inherit it unnoticed (each umask-sensitive test sets its own)."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)
