"""Which backend a query function was handed, for the few places where SQLite and
PostgreSQL must differ. Import-light: the SQLite side never loads the PostgreSQL driver."""
from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from shadowmap.collector.store.postgres.adapter import PgDatabase

POSTGRESQL = "postgresql"


def is_postgres(db: object) -> TypeGuard[PgDatabase]:
    """Whether ``db`` is PostgreSQL's adapter (else it is a sqlite_utils Database)."""
    return getattr(db, "backend", "") == POSTGRESQL
