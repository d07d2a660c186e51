"""usage rollup for reports (backfilled from stored events)"""

NAME = "usage rollup for reports (backfilled from stored events)"

SQL = """
CREATE TABLE usage_daily (
    day TEXT NOT NULL,            -- YYYY-MM-DD (UTC) of the event
    tool_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user TEXT NOT NULL,
    data_class TEXT NOT NULL,     -- '' = every event of the tool; else a class it carried
    blocked INTEGER NOT NULL,     -- 1: policy kept the data from the tool (block/redact)
    events INTEGER NOT NULL,
    PRIMARY KEY (day, tool_id, device_id, user, data_class, blocked)
) WITHOUT ROWID;
INSERT INTO usage_daily (day, tool_id, device_id, user, data_class, blocked, events)
    SELECT substr(ts, 1, 10), json_extract(body, '$.data.tool_id'), device_id, user, '', 0, count(*)
    FROM events WHERE json_extract(body, '$.data.tool_id') IS NOT NULL
    GROUP BY 1, 2, 3, 4;
INSERT INTO usage_daily (day, tool_id, device_id, user, data_class, blocked, events)
    SELECT substr(e.ts, 1, 10), json_extract(e.body, '$.data.tool_id'), e.device_id, e.user, c.value,
           CASE WHEN json_extract(e.body, '$.data.action') IN ('block', 'redact') THEN 1 ELSE 0 END, count(*)
    FROM events e, json_each(e.body, '$.data.data_classes') c
    WHERE json_extract(e.body, '$.data.tool_id') IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6
"""
