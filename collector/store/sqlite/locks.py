"""Transaction locks on names, for what several collector nodes must not do at once.

PostgreSQL: advisory locks held until the transaction ends, taken in a stable order (so two
transactions wanting overlapping names never wait on each other in a circle). SQLite: one
writer runs one transaction at a time already, so there is nothing to take."""
from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from shadowmap.collector.store.backend import is_postgres

ALERT_USERS = 1  # namespaces: raising alerts (ingest takes the org-wide name, '*')
ORG_DETECTORS = 2  # saving a version of the org detectors (the next version number)
DEVICE_WATCH = 3  # a pass of the device watch (the job's, or `collector devices watch`)


def lock_names(db: sqlite_utils.Database, namespace: int, names: Iterable[str]) -> None:
    """Writer fn: wait until no other transaction holds any of these names, then hold them."""
    wanted = sorted(set(names))
    if wanted and is_postgres(db):
        db.execute("SELECT count(pg_advisory_xact_lock(hashtextextended(name, ?)))"
                   " FROM (SELECT unnest(CAST(? AS text[])) AS name ORDER BY 1) AS ordered", (namespace, wanted))
