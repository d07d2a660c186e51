"""The security tests reuse the collector tests' fixtures (a real app on loopback, a real
SQLite file, enrolled devices, console sign-in). tests/collector/conftest.py is loaded by
its path: the name `collector` would resolve to the collector package itself."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "security_collector_fixtures", Path(__file__).parent.parent / "collector" / "conftest.py")
assert _spec is not None and _spec.loader is not None
collector_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(collector_fixtures)

# fixtures are found by name in a conftest's namespace: take all of them (and the helpers)
globals().update({name: value for name, value in vars(collector_fixtures).items() if not name.startswith("_")})
