"""The weekly report in four formats: JSON (the data as built), CSV (one row per vendor),
HTML (tables, matplotlib charts, print stylesheet; every value escaped by Jinja) and PDF
(that HTML laid out by WeasyPrint, which needs the system's pango)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from shadowmap.collector.report import charts

FORMATS = ("html", "csv", "json")  # text formats; PDF is bytes (to_pdf)
CSV_COLUMNS = ("vendor", "new_this_week", "first_seen", "tools", "users", "devices", "teams", "events",
               "data_classes_sent", "data_classes_blocked", "in_register", "listed", "dpa_signed", "dpa_date",
               "classes_not_allowed", "vendor_retention_days", "retention_basis", "policy_retention_days",
               "retention_status", "open_findings")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True, default_for_string=True))


# how the report's keys read in the HTML and PDF (the JSON keeps the keys)
LABELS = {
    "vendors_in_use": "AI sub-processors in use", "new_vendors": "new this week",
    "local_runtimes": "local model runtimes", "users": "users", "devices": "devices",
    "sensitive_events_reached": "sensitive data reached a vendor (events)",
    "sensitive_events_kept_back": "sensitive data kept back by policy (events)",
    "alerts_raised": "alerts raised",
}


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
        writer.writerow([_cell(x) for x in (
            v["vendor"], v["new_this_week"], v["first_seen"], v["tools"], v["users"], v["devices"], v["teams"],
            v["events"], v["data_classes_sent"], v["data_classes_blocked"], v["register"]["in_register"],
            v["register"]["listed"], v["register"]["dpa_signed"], v["register"]["dpa_date"],
            v["register"]["classes_not_allowed"], v["retention"]["vendor_days"], v["retention"]["basis"],
            v["retention"]["policy_days"], v["retention"]["status"], v["open_findings"])])
    return out.getvalue()


def to_html(report: dict) -> str:
    figures = {
        "users": charts.users_per_vendor(report["vendors"]) if report["vendors"] else "",
        # no empty axes when policy kept every class back (the table below still says so)
        "classes": (charts.data_classes_per_vendor(report["vendors"])
                    if any(v["data_classes_sent"] for v in report["vendors"]) else ""),
        "flow": charts.data_flow_map(report["data_flow"]) if report["data_flow"]["team_to_tool"] else "",
    }
    return _templates.get_template("weekly.html").render(report=report, figures=figures, labels=LABELS)


def to_pdf(report: dict) -> bytes:
    """The HTML report as PDF (A4, the print stylesheet). WeasyPrint fetches nothing: the
    report has no external resources, and the url fetcher refuses any."""
    from weasyprint import HTML  # loads pango: only when a PDF is asked for

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict:
        raise ValueError(f"the report loads nothing ({url})")

    from weasyprint import Attachment

    # the signed JSON travels inside the PDF, so the printed figures can be checked against it
    signed = Attachment(string=to_json(report), base_url=None, url_fetcher=no_fetch,
                        name=f"weekly-{report['week']}.json", description="the report's signed JSON")
    pdf = HTML(string=to_html(report), url_fetcher=no_fetch).write_pdf(attachments=[signed])
    assert pdf is not None  # no target given: the bytes come back
    return pdf


def render(report: dict, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return {"json": to_json, "csv": to_csv, "html": to_html}[fmt](report)
