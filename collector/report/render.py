"""The weekly report in three formats: JSON (the data as built), CSV (one row per vendor)
and HTML (tables, matplotlib charts, print stylesheet; every value escaped by Jinja)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from shadowmap.collector.report import charts

FORMATS = ("html", "csv", "json")
CSV_COLUMNS = ("vendor", "new_this_week", "first_seen", "tools", "users", "devices", "teams", "events",
               "data_classes_sent", "data_classes_blocked", "in_register", "listed", "dpa_signed", "dpa_date",
               "classes_not_allowed", "vendor_retention_days", "retention_basis", "policy_retention_days",
               "retention_status", "open_findings", "controls")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True, default_for_string=True))


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, dict):
        text = ";".join(f"{k}={v}" for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        text = ";".join(str(v) for v in value)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = "" if value is None else str(value)
    # a spreadsheet must not run a vendor or team name as a formula
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in report["vendors"]:
        controls = sorted({tag for group in v["controls"].values() for tag in group}
                          | set(v["register"]["controls"]) | set(v["retention"]["controls"]))
        writer.writerow([_cell(x) for x in (
            v["vendor"], v["new_this_week"], v["first_seen"], v["tools"], v["users"], v["devices"], v["teams"],
            v["events"], v["data_classes_sent"], v["data_classes_blocked"], v["register"]["in_register"],
            v["register"]["listed"], v["register"]["dpa_signed"], v["register"]["dpa_date"],
            v["register"]["classes_not_allowed"], v["retention"]["vendor_days"], v["retention"]["basis"],
            v["retention"]["policy_days"], v["retention"]["status"], v["open_findings"], controls)])
    return out.getvalue()


def to_html(report: dict) -> str:
    figures = {
        "users": charts.users_per_vendor(report["vendors"]) if report["vendors"] else "",
        # no empty axes when policy kept every class back (the table below still says so)
        "classes": (charts.data_classes_per_vendor(report["vendors"])
                    if any(v["data_classes_sent"] for v in report["vendors"]) else ""),
        "flow": charts.data_flow_map(report["data_flow"]) if report["data_flow"]["team_to_tool"] else "",
    }
    return _templates.get_template("weekly.html").render(report=report, figures=figures)


def render(report: dict, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return {"json": to_json, "csv": to_csv, "html": to_html}[fmt](report)
