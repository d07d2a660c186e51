"""A realistic queue for the console's browser tests, seeded through the collector's public
API (enroll, events) of a running collector process."""
from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

USERS = [f"user{n:02d}" for n in range(15)]
HOSTS = ("ops-dave-xps", "fin-erin-mbp", "eng-frank-tp")


def _post(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _event(device_id: str, type_: str, data: dict, user: str, ts: datetime) -> dict:
    return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": type_, "device_id": device_id,
            "user": user, "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "data": data}


def _paste(device_id: str, user: str, tool: tuple[str, str], entity: str, data_class: str, action: str,
           ts: datetime, files: list | None = None) -> dict:
    finding = {"entity_type": entity, "data_class": data_class, "count": 1, "score": 0.95,
               "hashes": [f"{entity}-{user}-{tool[0]}".encode().hex().ljust(64, "0")[:64]], "reason": entity}
    data = {"channel": "paste", "tool_id": tool[0], "domain": tool[1], "data_classes": [data_class],
            "findings": [finding], "action": action, "reason": "policy"}
    if files:
        data["files"] = files
    return _event(device_id, "paste.scanned", data, user, ts)


def seed(url: str, enroll_secret: str) -> None:
    """63 alerts: 15 users x 2 tools x 2 findings on three hosts over the last ten hours, the
    two vendors' register findings (not in the register), and dave's five warned AWS secret
    key pastes into ChatGPT: 3 sent anyway, 1 cancelled, 1 undecided."""
    devices = {}
    for host in HOSTS:
        enrolled = _post(url + "/api/v1/enroll", {"enroll_secret": enroll_secret, "host_identifier": host,
                                                  "hostname": host, "os": "linux"})
        devices[host] = (enrolled["device_id"], {"Authorization": f"Bearer {enrolled['node_key']}"})
    now = datetime.now(UTC)
    batches: dict[str, list] = {host: [] for host in HOSTS}
    for n, user in enumerate(USERS):
        host = HOSTS[n % len(HOSTS)]
        device_id = devices[host][0]
        for m, tool in enumerate((("chatgpt", "chatgpt.com"), ("claude", "claude.ai"))):
            ts = now - timedelta(minutes=37 * n + 5 * m + 3)
            batches[host].append(_paste(device_id, user, tool, "AWS_ACCESS_KEY", "secret", "block", ts))
            batches[host].append(_paste(device_id, user, tool, "EMAIL_ADDRESS", "pii", "allow", ts))
    device_id, headers = devices[HOSTS[0]]
    warned = [_paste(device_id, "dave", ("chatgpt", "chatgpt.com"), "AWS_SECRET_KEY", "secret", "warn",
                     now - timedelta(minutes=2), files=[{"name": "prod.env", "size": 220, "read": True}])
              for _ in range(5)]
    for host, events in batches.items():
        reply = _post(url + "/api/v1/events", {"events": events}, devices[host][1])
        assert reply["rejected"] == []
    assert _post(url + "/api/v1/events", {"events": warned}, headers)["rejected"] == []
    decisions = [_event(device_id, "paste.override",
                        {"scan_id": scan["id"], "decision": "send_anyway" if i < 3 else "cancel", "tool_id": "chatgpt",
                         "domain": "chatgpt.com", "channel": "paste",
                         **({"justification": "INC-4711: debugging prod, key rotated after"} if i < 3 else {})},
                        "dave", now - timedelta(minutes=1))
                 for i, scan in enumerate(warned[:4])]
    assert _post(url + "/api/v1/events", {"events": decisions}, headers)["rejected"] == []
