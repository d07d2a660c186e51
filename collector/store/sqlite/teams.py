"""Teams: the imported device/user -> team mapping, and lookups of the team of users and
devices (a device is named by its device id or hostname)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils


def replace_mapping(db: sqlite_utils.Database, rows: Sequence[tuple[str, str, str]]) -> int:
    """Writer fn: the imported (kind, key, team) rows replace the stored mapping."""
    db.execute("DELETE FROM team_members")
    db.conn.executemany("INSERT INTO team_members (kind, key, team) VALUES (?, ?, ?)", rows)
    return len(rows)


def mapping_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT kind, key, team FROM team_members ORDER BY team, kind, key"))


class TeamIndex:
    """Looks up the team of users and devices (device id or hostname)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.by_user: dict[str, str] = {}
        self.by_device: dict[str, str] = {}
        for row in db.query("SELECT kind, key, team FROM team_members"):
            (self.by_user if row["kind"] == "user" else self.by_device)[row["key"]] = row["team"]
        if self.by_device:
            for row in db.query("SELECT device_id, hostname FROM devices"):
                team = self.by_device.get(row["device_id"]) or self.by_device.get(row["hostname"])
                if team:
                    self.by_device[row["device_id"]] = team

    def teams(self, users: Sequence[str] = (), device_ids: Sequence[str] = ()) -> list[str]:
        found = {self.by_user[u] for u in users if u in self.by_user}
        found |= {self.by_device[d] for d in device_ids if d in self.by_device}
        return sorted(found)

    def all_teams(self) -> list[str]:
        return sorted(set(self.by_user.values()) | set(self.by_device.values()))
