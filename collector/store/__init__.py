"""The one storage interface of the collector.

`Store` runs functions on the database: `await store.read(fn, *args)` on a reader thread,
`await store.write(fn, *args)` as one transaction, committed before it returns. Every query
the server needs is a function in `shadowmap.collector.store.sqlite.<concern>` (devices,
accounts, org, events, alerts, ...), named by what it does and taking the database as its
first argument; handlers and views never hold SQL. The same functions run on both backends:
SQLite (`sqlite/engine.py`, the embedded default) and PostgreSQL (`postgres/engine.py`, for
several stateless nodes), which hands them an adapter with the part of sqlite_utils'
Database they use (`postgres/adapter.py`). `open_store(url)` picks the backend from `--db`
(`url.py`). Schema changes are the numbered files of `shadowmap.collector.store.migrations`
and their PostgreSQL twins in `shadowmap.collector.store.postgres.migrations`."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from shadowmap.collector.store.sqlite.engine import Store
    from shadowmap.collector.store.url import DatabaseUrl

__all__ = ["Store", "Storage", "open_store"]
T = TypeVar("T")


class Storage(Protocol):
    """What the collector asks of a store, whichever the backend."""

    applied_migrations: list[int]
    shared_by_nodes: bool  # PostgreSQL: several collector nodes write at once

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def read(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def write(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T: ...

    def pending_writes(self) -> int: ...


def open_store(url: DatabaseUrl | str | Path, read_workers: int = 4) -> Storage:
    """A (not yet opened) store of the database ``url`` names: a SQLite file or a
    PostgreSQL URL (shadowmap.collector.store.url)."""
    from shadowmap.collector.store.url import PostgresUrl, parse_database_url

    parsed = parse_database_url(url) if isinstance(url, str | Path) else url
    if isinstance(parsed, PostgresUrl):
        from shadowmap.collector.store.postgres.engine import Store as PostgresStore
        return PostgresStore(parsed, read_workers=read_workers)
    from shadowmap.collector.store.sqlite.engine import Store
    return Store(parsed.path, read_workers=read_workers)


def __getattr__(name: str) -> Any:
    # loaded when asked for: the record's offline verifier imports query modules of this
    # package and needs none of the engine (threads, sqlite_utils)
    if name == "Store":
        from shadowmap.collector.store.sqlite.engine import Store
        return Store
    raise AttributeError(name)
