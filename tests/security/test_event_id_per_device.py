"""Issue 16 item 13: event-id dedupe was global, so device B's event carrying device A's
event id was acknowledged and then dropped. An event id names one device's event: a second
device's event with that id is rejected with a reason (its agent keeps it), on both backends."""
from __future__ import annotations

import pytest

from shadowmap.collector.config import CollectorConfig


@pytest.mark.parametrize("backend", ("sqlite", "postgresql"), indirect=True)
async def test_another_devices_event_id_is_rejected_not_acked_and_dropped(client, config: CollectorConfig,
                                                                         make) -> None:
    first = await make.enroll(client, config, host_identifier="host-a")
    second = await make.enroll(client, config, host_identifier="host-b")
    taken = make.paste(first["device_id"])
    answer = await client.post("/api/v1/events", json={"events": [taken]},
                               headers={"Authorization": f"Bearer {first['node_key']}"})
    assert (await answer.json())["acked"] == [taken["id"]]
    reused = make.paste(second["device_id"], id=taken["id"])
    own = make.paste(second["device_id"])
    answer = await client.post("/api/v1/events", json={"events": [reused, own]},
                               headers={"Authorization": f"Bearer {second['node_key']}"})
    body = await answer.json()
    assert body["acked"] == [own["id"]]
    assert [item["id"] for item in body["rejected"]] == [taken["id"]]
    assert "another device" in body["rejected"][0]["error"]
    # the first device retrying its own event is still acknowledged (stored once)
    answer = await client.post("/api/v1/events", json={"events": [taken]},
                               headers={"Authorization": f"Bearer {first['node_key']}"})
    assert (await answer.json())["acked"] == [taken["id"]]
    assert make.count_rows(config.db_path, "events") == 2
