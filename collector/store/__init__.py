"""The one storage interface of the collector.

`Store` runs functions on the database: `await store.read(fn, *args)` on a reader thread,
`await store.write(fn, *args)` on the single writer thread (one transaction each). Every
query the server needs is a function in `shadowmap.collector.store.sqlite.<concern>`
(devices, accounts, org, events, alerts, ...), named by what it does and taking the
database as its first argument; handlers and views never hold SQL. A PostgreSQL backend is
a second package with the same modules and names. Schema changes are the numbered files of
`shadowmap.collector.store.migrations`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shadowmap.collector.store.sqlite.engine import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    # loaded when asked for: the record's offline verifier imports query modules of this
    # package and needs none of the engine (threads, sqlite_utils)
    if name == "Store":
        from shadowmap.collector.store.sqlite.engine import Store
        return Store
    raise AttributeError(name)
