"""The finding "Console sign-in locked out": failed console sign-ins reached the lockout
threshold for a username or a client address (collector/console/login_throttle.py), so
someone may be guessing passwords. One alert per existing account that was locked out, each
further lockout added to it; lockouts of usernames that are no account share one org-wide
alert, so guessing many names cannot flood the queue."""
from __future__ import annotations

import sqlite_utils

from shadowmap.collector.alerts.findings import BY_ID
from shadowmap.collector.alerts.raising import ALL_USERS, Evidence, dedupe_key, open_or_bump
from shadowmap.collector.store.sqlite import accounts
from shadowmap.collector.timestamps import utc_now

FINDING_ID = "console_lockout"
TOOL_KEY = "console"


def raise_lockout(db: sqlite_utils.Database, username: str, address: str, locked: list[str], until: str) -> int:
    """Writer fn (inside the failed sign-in's transaction): open or add to the lockout alert
    for this username. ``locked`` names what was locked now ("user", "addr"). Returns the alert id."""
    known = accounts.account_exists(db, username)
    user = username if known else ALL_USERS
    what = " and ".join({"user": f"the account {username!r}" if known else f"the unknown username {username!r}",
                         "addr": f"the address {address}"}[key] for key in locked)
    stamp = utc_now()
    facts = {"reason": f"repeated failed console sign-ins locked out {what} until {until[:19].replace('T', ' ')} UTC",
             "username": username, "account_exists": known, "address": address, "locked": locked,
             "locked_until": until}
    evidence = Evidence(BY_ID[FINDING_ID], None, None, None, user, stamp, stamp, count=1,
                        users={username} if known else set(), facts=facts)
    return open_or_bump(db, dedupe_key(FINDING_ID, TOOL_KEY, user), evidence)
