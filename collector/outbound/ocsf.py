"""Alerts as OCSF Data Security Finding events (class 2006, category 2 Findings) for SIEMs.
type_uid = class_uid * 100 + activity_id; activity 1 Create, 2 Update, 3 Close."""
from __future__ import annotations

from datetime import datetime

OCSF_VERSION = "1.3.0"
CLASS_UID = 2006
CATEGORY_UID = 2
ACTIVITIES = {"create": (1, "Create"), "update": (2, "Update"), "close": (3, "Close")}
SEVERITIES = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"),
              "high": (4, "High"), "critical": (5, "Critical")}
# alert status -> OCSF finding status_id, status
STATUSES = {"open": (1, "New"), "acknowledged": (2, "In Progress"), "false_positive": (3, "Suppressed"),
            "resolved": (4, "Resolved")}


def epoch_ms(ts: str | None) -> int | None:
    if not ts:
        return None
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def data_security_finding(alert: dict, activity: str, product_version: str, now_ts: str) -> dict:
    """One OCSF 2006 event for an alert (a dict with the `alerts` row's fields, JSON lists decoded)."""
    activity_id, activity_name = ACTIVITIES[activity]
    severity_id, severity = SEVERITIES.get(alert.get("severity", ""), (99, "Other"))
    status_id, status = STATUSES.get(alert.get("status", ""), (99, "Other"))
    tool = alert.get("tool_id") or alert.get("domain") or "unknown"
    finding = {
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Data Security Finding",
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"Data Security Finding: {activity_name}",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "time": epoch_ms(now_ts),
        "count": alert.get("count", 1),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": f"shadowmap-alert-{alert['id']}-{activity}-{alert.get('count', 1)}",
            "product": {"name": "shadowmap", "vendor_name": "shadowmap", "version": product_version},
        },
        "finding_info": {
            "uid": f"shadowmap-alert-{alert['id']}",
            "title": alert.get("finding", ""),
            "types": [alert.get("finding_id", "")],
            "desc": f"{alert.get('finding', '')}: {tool}, user {alert.get('user', '')}",
            "first_seen_time": epoch_ms(alert.get("first_seen")),
            "last_seen_time": epoch_ms(alert.get("last_seen")),
        },
        "actor": {"user": {"name": alert.get("user", "")}},
        "resources": [{"uid": tool, "name": tool, "type": "AI tool",
                       **({"hostname": alert["domain"]} if alert.get("domain") else {})}],
        "data_security": {
            "data_lifecycle_state_id": 2, "data_lifecycle_state": "Data in Transit",
            "category_id": 99, "category": ", ".join(alert.get("data_classes") or []) or "unknown",
        },
        "unmapped": {
            "device_ids": alert.get("device_ids") or [],
            "entity_types": alert.get("entity_types") or [],
            "data_classes": alert.get("data_classes") or [],
            "vendor": alert.get("vendor"),
            "assignee": alert.get("assignee"),
        },
    }
    return finding
