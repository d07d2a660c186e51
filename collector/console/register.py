"""Register pages and endpoints: view with each vendor's tools and facts (viewer); edit in
place with a vendor picker from the catalog that warns on names it does not know, remove
after a confirmation, import listing every bad line in the page, retention policy (admin);
CSV export; and the unknown-tools queue (ignore: analyst; catalogue / approve: admin)."""
from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web

from shadowmap.collector.alerts import register, unknown_tools
from shadowmap.collector.alerts.findings import VENDOR_CHECKS
from shadowmap.collector.alerts.retention import policy_retention_days, vendor_retention_days
from shadowmap.collector.console import flash, next_steps
from shadowmap.collector.console.auth import form_text, require_form, require_page
from shadowmap.collector.console.pages import render
from shadowmap.collector.principals import require_api
from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import register as stored_register
from shadowmap.detectors.catalog import load_catalog
from shadowmap.detectors.vendors import load_vendors

TOOL_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EMPTY_FORM = {"vendor": "", "dpa_signed": False, "dpa_date": "", "dpa_expires": "", "dpa_url": "", "owner": "",
              "listed": False, "data_classes": [], "retention_days": None, "notes": "", "confirm_name": False}


def _back(request: web.Request, path: str, message: str) -> web.StreamResponse:
    if request.headers.get("Authorization"):
        return web.json_response({"ok": True, "message": message})
    raise flash.redirect(request, path, message)


def _vendor_details(vendor: str) -> dict:
    """The catalog's tools of a vendor and its facts (retention, DPA, certifications)."""
    facts = load_vendors().get(vendor)
    tools = sorted(tool.name for tool in load_catalog().tools if tool.vendor.casefold() == vendor.casefold())
    if facts is None:
        return {"tools": tools, "facts": None}
    return {"tools": tools, "facts": {"legal entity": facts.legal_entity.value, "HQ": facts.hq_country.value,
                                      "DPA offered": facts.dpa_available.value, "SOC 2": facts.soc2.value,
                                      "ISO 27001": facts.iso27001.value}}


async def _register_page(request: web.Request, principal, http_status: int = 200, errors: list[str] | None = None,
                         warning: str | None = None, form: dict | None = None) -> web.Response:
    """The register page; ``form`` prefills the entry form (edit in place, "Add" from the
    unlisted rows, or a refused save shown again), ``errors`` lists every refused line."""
    def load(db):
        return stored_register.entries(db), policy_retention_days(db), stored_register.vendors_in_use_unlisted(db)

    entries, policy, unlisted = await request.app[STORE].read(load)
    for entry in entries:
        entry["vendor_retention_days"] = vendor_retention_days(entry["vendor"], business_terms=entry["dpa_signed"])
        entry.update(_vendor_details(entry["vendor"]))
    by_name = {e["vendor"].casefold(): e for e in entries}
    edit_name = request.query.get("vendor", "")[:register.LIMITS["vendor"]]
    if form is None and edit_name:
        form = dict(by_name.get(edit_name.casefold()) or {"vendor": edit_name})
    remove = request.query.get("remove", "")[:register.LIMITS["vendor"]]
    return render(request, "register.html", principal, http_status=http_status, entries=entries, policy_days=policy,
                  unlisted=unlisted, data_classes=register.DATA_CLASSES, columns=register.CSV_COLUMNS,
                  checks=[name for name, _ in VENDOR_CHECKS], catalog_vendors=register.catalog_vendors(),
                  form={**EMPTY_FORM, **(form or {})}, errors=errors or [], warning=warning,
                  confirm_remove=by_name.get(remove.casefold()) if remove else None)


async def register_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    return await _register_page(request, principal)


async def register_csv_handler(request: web.Request) -> web.Response:
    await require_api(request, "viewer")
    entries = await request.app[STORE].read(stored_register.entries)
    return web.Response(text=register.export_csv(entries), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="subprocessor-register.csv"'})


async def register_api_handler(request: web.Request) -> web.Response:
    await require_api(request, "viewer")

    def load(db):
        return stored_register.entries(db), policy_retention_days(db)

    entries, policy = await request.app[STORE].read(load)
    return web.json_response({"vendors": entries, "retention_policy_days": policy})


async def register_save_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    fields = {name: form_text(form, name) for name in register.CSV_COLUMNS if name not in ("data_classes",)}
    fields["dpa_signed"] = "yes" if form.get("dpa_signed") else "no"
    fields["listed"] = "yes" if form.get("listed") else "no"
    fields["data_classes"] = ";".join(v for v in form.getall("data_classes", []) if isinstance(v, str))
    shown_again = {**fields, "data_classes": fields["data_classes"].split(";"),
                   "dpa_signed": form.get("dpa_signed") is not None, "listed": form.get("listed") is not None}
    try:
        entry = register.parse_entry(fields)
    except register.RegisterError as exc:
        if request.headers.get("Authorization"):
            raise web.HTTPBadRequest(text=str(exc)) from None
        return await _register_page(request, principal, 400, errors=[str(exc)], form=shown_again)
    spelling, warning, wrong = register.check_vendor(entry.vendor)
    if warning and form.get("accept_name") is None:
        # a name the catalog does not know would never match an alert: say so before saving it
        if request.headers.get("Authorization"):
            raise web.HTTPBadRequest(text=warning + " (send accept_name=yes to save it as typed)")
        return await _register_page(request, principal, 400 if wrong else 200, warning=warning,
                                    form={**shown_again, "confirm_name": True})
    entry = replace(entry, vendor=spelling)
    resolved = await request.app[STORE].write(lambda db: register.upsert(db, [entry], principal.name))
    return _back(request, "/register", f"saved {entry.vendor}; {len(resolved)} alert(s) resolved")


async def register_delete_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    vendor = form_text(form, "vendor")
    if form_text(form, "confirm") != "yes":  # the page asks first (GET /register?remove=...)
        raise web.HTTPSeeOther(f"/register?remove={quote(vendor)}#confirm-remove")
    deleted = await request.app[STORE].write(register.delete, vendor, principal.name)
    if not deleted:
        raise web.HTTPNotFound(text="no such vendor in the register")
    return _back(request, "/register", f"removed {vendor}")


async def register_import_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    upload = form.get("file")
    if upload is not None and hasattr(upload, "file"):
        raw = upload.file.read(register.MAX_CSV_BYTES + 1)
    else:
        raw = form_text(form, "csv").encode("utf-8")
    entries: list[register.Entry] = []
    warnings: list[str] = []
    errors: list[str] = []
    try:
        entries, warnings = register.parse_csv(raw.decode("utf-8"))
    except UnicodeDecodeError:
        errors = ["the file is not UTF-8 text"]
    except register.RegisterError as exc:
        errors = exc.errors
    if errors:
        if request.headers.get("Authorization"):
            raise web.HTTPBadRequest(text="\n".join(errors)) from None
        return await _register_page(request, principal, 400, errors=errors)
    resolved = await request.app[STORE].write(lambda db: register.upsert(db, entries, principal.name))
    note = f"; check: {' · '.join(warnings[:5])}" if warnings else ""
    return _back(request, "/register", f"imported {len(entries)} vendor(s); {len(resolved)} alert(s) resolved{note}")


async def retention_policy_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "admin")
    raw = form_text(form, "days").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 5):
        raise web.HTTPBadRequest(text="days must be a whole number or empty (no policy)")
    days = int(raw) if raw else None

    try:
        resolved = await request.app[STORE].write(register.set_retention_policy, days, principal.name)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return _back(request, "/register", f"retention policy set; {len(resolved)} alert(s) resolved")


async def unknown_tools_page_handler(request: web.Request) -> web.Response:
    principal = await require_page(request, "viewer")
    status = request.query.get("status", "new")
    if status not in unknown_tools.STATUSES:
        raise web.HTTPBadRequest(text="status must be one of " + ", ".join(unknown_tools.STATUSES))
    items = await request.app[STORE].read(lambda db: unknown_tools.queue(db, status))
    steps = [] if items or status != "new" else await next_steps.still_to_do(request, ("device", "extension"))
    return render(request, "unknown_tools.html", principal, items=items, status=status,
                  statuses=unknown_tools.STATUSES, signals=unknown_tools.SIGNALS, steps=steps)


async def unknown_tools_decide_handler(request: web.Request) -> web.StreamResponse:
    principal, form = await require_form(request, "analyst")
    kind, name, decision = form_text(form, "kind"), form_text(form, "name"), form_text(form, "decision")
    tool_id, vendor = form_text(form, "tool_id").strip() or None, form_text(form, "vendor").strip() or None
    if decision not in ("catalogued", "approved", "ignored", "new"):
        raise web.HTTPBadRequest(text="decision must be catalogued, approved, ignored or new")
    if decision in ("catalogued", "approved") and not principal.can("admin"):
        raise web.HTTPForbidden(text="adding to the catalog or the register needs the admin role")
    if decision == "catalogued" and not (tool_id and TOOL_ID.match(tool_id) and vendor and len(vendor) <= 100):
        raise web.HTTPBadRequest(text="a catalog entry needs a tool id (lowercase slug) and a vendor")
    if decision == "approved" and not (vendor and len(vendor) <= 100 and (tool_id is None or TOOL_ID.match(tool_id))):
        raise web.HTTPBadRequest(text="approving into the register needs the vendor's name "
                                             "(and a lowercase slug as tool id, if one is given)")

    def save(db):
        return unknown_tools.review(db, kind, name, decision, principal.name, tool_id, vendor)

    if not await request.app[STORE].write(save):
        raise web.HTTPNotFound(text="no such unknown tool")
    return _back(request, "/unknown-tools", f"{name}: {decision}")


async def unknown_catalog_yaml_handler(request: web.Request) -> web.Response:
    await require_api(request, "viewer")
    text = await request.app[STORE].read(unknown_tools.catalog_yaml)
    return web.Response(text=text, content_type="application/yaml", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="local-tools.yaml"'})


ROUTES = [
    web.get("/register", register_page_handler),
    web.get("/register.csv", register_csv_handler),
    web.get("/api/v1/register", register_api_handler),
    web.post("/register", register_save_handler),
    web.post("/register/delete", register_delete_handler),
    web.post("/register/import", register_import_handler),
    web.post("/register/retention-policy", retention_policy_handler),
    web.get("/unknown-tools", unknown_tools_page_handler),
    web.post("/unknown-tools/decide", unknown_tools_decide_handler),
    web.get("/unknown-tools/catalog.yaml", unknown_catalog_yaml_handler),
]
