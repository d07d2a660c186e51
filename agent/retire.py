"""A planned stop: the package's uninstall scripts (or an admin decommissioning the laptop) run
`shadowmap agent retire`, which spools an `agent.retiring` event and sends what is spooled, so
the collector expects the device's silence instead of raising "Protection disabled".

It never fails the uninstall: when the collector cannot be reached the event stays spooled
(and is lost with the spool when the package goes), and the command says so."""
from __future__ import annotations

from dataclasses import dataclass

from shadowmap.agent import events
from shadowmap.agent.config import AgentConfig
from shadowmap.agent.daemon import agent_user
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.spool import Spool
from shadowmap.agent.uploader import Uploader
from shadowmap.contract import enums


@dataclass(frozen=True)
class Retired:
    event_id: str
    delivered: bool
    enrolled: bool


def retire(config: AgentConfig, reason: str, timeout: float = 10.0) -> Retired:
    if reason not in enums.RETIRE_REASONS:
        raise ValueError(f"reason must be one of {', '.join(enums.RETIRE_REASONS)}")
    identity = EnrollmentHolder(config.state_dir)
    current = identity.current
    if current is None:
        return Retired("", False, False)
    spool = Spool(config.spool_path, config.spool_max_bytes)
    try:
        event = events.envelope("agent.retiring", current.device_id, agent_user(), {"reason": reason})
        spool.put(event)
        delivered = Uploader(config, spool, identity).flush(timeout)
    finally:
        spool.close()
    return Retired(event["id"], delivered, True)
