"""Scheduled generation: the collector writes last week's report (HTML, CSV, JSON, PDF),
signed with the record's key, into a reports folder next to its database once the week is
over, checking every hour."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from shadowmap.collector.background import background_task, holds_lease
from shadowmap.collector.private_files import private_dir, write_private
from shadowmap.collector.record.service import RECORD_KEY
from shadowmap.collector.report.attestation import sign
from shadowmap.collector.report.cli import last_week
from shadowmap.collector.report.render import FORMATS, render, to_pdf
from shadowmap.collector.report.weekly import build
from shadowmap.collector.state import CONFIG, STORE

log = logging.getLogger(__name__)


@dataclass
class ReportSettings:
    out_dir: Path | None = None     # None: reports/ next to the database
    every_seconds: float = 3600.0   # 0 disables the schedule


REPORT_SETTINGS = web.AppKey("report_settings", ReportSettings)


async def generate_due(app: web.Application) -> list[Path]:
    """Write last week's report in every format unless it is there already."""
    settings = app[REPORT_SETTINGS]
    out_dir = settings.out_dir or Path(app[CONFIG].db_path).parent / "reports"
    week = last_week()
    targets = {fmt: out_dir / f"weekly-{week}.{fmt}" for fmt in (*FORMATS, "pdf")}
    if all(path.exists() for path in targets.values()):
        return []
    report = sign(await app[STORE].read(lambda db: build(db, week)), app.get(RECORD_KEY))
    private_dir(out_dir)
    loop = asyncio.get_running_loop()
    written = []
    for fmt, path in targets.items():
        # charts and layout take a moment: off the loop
        if fmt == "pdf":
            body = await loop.run_in_executor(None, to_pdf, report)
        else:
            body = (await loop.run_in_executor(None, render, report, fmt)).encode("utf-8")
        write_private(path, body)
        written.append(path)
    log.info("weekly report %s written to %s", week, out_dir)
    return written


async def _loop(app: web.Application, every: float) -> None:
    while True:
        await asyncio.sleep(every)  # not at startup: a restart should not wait on charts
        try:
            if await holds_lease(app[STORE], "weekly-report", every):  # one node writes the reports
                await generate_due(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled weekly report failed")


async def _schedule_context(app: web.Application) -> AsyncIterator[None]:
    every = app[REPORT_SETTINGS].every_seconds
    async with background_task("weekly-report", _loop(app, every) if every > 0 else None):
        yield


def install(app: web.Application) -> None:
    if REPORT_SETTINGS not in app:
        app[REPORT_SETTINGS] = ReportSettings()
    app.cleanup_ctx.append(_schedule_context)
