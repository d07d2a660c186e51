"""The weekly sub-processor report over a month of 10 M events: 5,000 devices, 60 tools,
alerts, a register and a team mapping. The report reads only the usage rollup ingest keeps
(never event bodies), so the bench writes the rollup rows those events produce (same
table, same upsert) instead of 4 GB of bodies; the database is generated once and cached
under /tmp (bounded: a few hundred MB; --rebuild regenerates it). Timed: building the report for one week and
rendering it as JSON, CSV and HTML (with its three matplotlib charts); the PDF is timed apart. Reference, same
run: one full scan of the rollup table. Budget (DESIGN.md): <= 10 s.

    .venv/bin/python bench/report.py [--events 10000000] [--devices 5000] [--rebuild]
    .venv/bin/python bench/report.py --smoke    # 50,000 events over 200 devices, a temporary database, seconds
    .venv/bin/python bench/report.py --db postgresql://user@host:port/emptydb   # also on PostgreSQL
"""
from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

# bench/detectors.py would shadow the detectors package: import from the project, not bench/
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import sqlite_utils  # noqa: E402

from shadowmap.collector.report.render import render, to_pdf  # noqa: E402
from shadowmap.collector.report.weekly import build  # noqa: E402
from shadowmap.collector.store.migrations import apply_migrations  # noqa: E402
from shadowmap.collector.store.sqlite.usage_rollup import rollup  # noqa: E402
from shadowmap.contract import enums  # noqa: E402
from shadowmap.detectors.catalog import load_catalog  # noqa: E402

BUDGET_SECONDS = 10.0
CACHE = Path("/tmp/shadowmap-bench-report")
WEEK = "2026-W47"
MONTH_START = date(2026, 10, 26)
DAYS = 28
DEVICES = 5000
SMOKE_EVENTS, SMOKE_DEVICES = 50_000, 200
TEAMS = ["engineering", "marketing", "operations", "sales", "finance", "legal", "support", "design"]
CLASSES = list(enums.DATA_CLASSES)


def generate(path: Path, events: int, devices: int = DEVICES) -> None:
    """The rollup rows ``events`` events produce: every device uses its four favourite tools
    on every day of the month, a random number of times (mean events / (devices x days x 4)),
    30 % of uses carrying one data class, a third of those blocked. Written with ingest's own
    writer step (rollup.rollup, given the counts), so the bench follows the store's SQL."""
    rng = random.Random(2026)
    tools = [tool.id for tool in load_catalog().tools][:60]
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")  # generating bench data; the report only reads
    apply_migrations(db)
    mean = events / (devices * DAYS * 4)
    if mean < 0.5:
        raise SystemExit(f"{events:,} events over {devices:,} devices is under one use per device and day: "
                         "give more --events or fewer --devices")
    started, generated = time.perf_counter(), 0
    for n in range(devices):
        device, user, rows = f"dev-{n:05d}", f"user{n:05d}@acme.example", []
        favourites = rng.sample(tools, 4)
        for d in range(DAYS):
            day = (MONTH_START + timedelta(days=d)).isoformat()
            for tool in favourites:
                uses = rng.randint(0, int(2 * mean))
                if not uses:
                    continue
                generated += uses
                rows.append((day, tool, device, user, "", 0, uses))
                with_class = int(uses * 0.3)
                for data_class in rng.sample(CLASSES, 2):
                    blocked = with_class // 6
                    rows.append((day, tool, device, user, data_class, 0, with_class // 2 - blocked))
                    rows.append((day, tool, device, user, data_class, 1, blocked))
        with db.atomic():
            # one row per key (distinct tools, distinct classes), as ingest's counts are
            rollup(db, (), counts={tuple(row[:-1]): row[-1] for row in rows if row[-1] > 0})
        if n % 500 == 499:
            print(f"\r  generated {generated:,} events' rollup ({time.perf_counter() - started:.0f} s)", end="", flush=True)
    print()
    with db.atomic():
        db.conn.executemany("INSERT INTO team_members (kind, key, team) VALUES ('user', ?, ?)",
                            [(f"user{n:05d}@acme.example", TEAMS[n % len(TEAMS)]) for n in range(devices)
                             if n % 10])
        db.conn.executemany(
            "INSERT INTO alerts (dedupe_key, finding_id, finding, severity, tool_id, domain, user, device_ids,"
            " entity_types, data_classes, count, first_seen, last_seen, status) VALUES (?, 'adhoc_production_data',"
            " 'Production data pasted into an AI chat, ad hoc', ?, ?, NULL, ?, '[]', '[]', '[\"pii\"]', 1,"
            " '2026-11-17T00:00:00Z', '2026-11-18T00:00:00Z', ?)",
            [(f"bench-{i}", rng.choice(["high", "critical", "medium"]), rng.choice(tools), f"user{i:05d}@acme.example",
              rng.choice(["open", "acknowledged", "resolved"])) for i in range(min(3000, devices))])
        for vendor in ("OpenAI", "Anthropic", "Google", "Microsoft", "Mistral AI"):
            db.execute("INSERT INTO register (vendor, dpa_signed, dpa_date, listed, data_classes, retention_days, notes,"
                       " updated_at, updated_by) VALUES (?, 1, '2025-01-01', 1, '[\"pii\"]', NULL, '', 'bench', 'bench')",
                       (vendor,))
        db.execute("INSERT INTO org_settings (name, value) VALUES ('retention_policy_days', '30')")
    db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--devices", type=int, default=DEVICES)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--db", default=None, metavar="POSTGRESQL_URL", help="also build the report on this empty "
                        "PostgreSQL database, after moving a copy of the generated one into it (collector move)")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_EVENTS:,} events over {SMOKE_DEVICES} devices "
                        "in a temporary database (checks the bench runs; the figures are not the budget's)")
    args = parser.parse_args()
    if args.smoke:
        with tempfile.TemporaryDirectory(prefix="shadowmap-report-smoke-") as tmp:
            path = Path(tmp) / "report.db"
            generate(path, SMOKE_EVENTS, SMOKE_DEVICES)
            measure(path, smoke=True)
        return
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"report-{args.events}-{args.devices}.db"
    if args.rebuild or not path.exists():
        for stale in CACHE.glob("report-*.db*"):
            stale.unlink()
        print(f"generating {args.events:,} events over {args.devices:,} devices into {path} (once; cached)")
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        generate(partial, args.events, args.devices)
        partial.replace(path)
    measure(path)
    if args.db:
        measure_postgres(path, args.db)


def measure_postgres(path: Path, url: str) -> None:
    """The same report on PostgreSQL: a copy of the generated database moved into the empty
    database at ``url`` (`shadowmap collector move`'s code), built through the collector's store."""
    import asyncio
    import shutil

    from shadowmap.collector.move import move
    from shadowmap.collector.store import open_store
    from shadowmap.collector.store.url import PostgresUrl, parse_database_url

    target = parse_database_url(url)
    if not isinstance(target, PostgresUrl):
        raise SystemExit("--db takes a postgresql:// URL")
    with tempfile.TemporaryDirectory(prefix="shadowmap-report-pg-") as tmp:
        copy = Path(tmp) / "report.db"
        shutil.copyfile(path, copy)  # the move migrates its source: never the cached file
        started = time.perf_counter()
        summary = move(copy, target, batch=20_000)
        print(f"moved to PostgreSQL: {summary.rows:,} rows in {time.perf_counter() - started:.1f} s "
              f"({'counts and chain OK' if summary.ok else 'FAILED'})")
    # A database in service has been vacuumed and analysed by autovacuum; straight after a bulk
    # move it has no statistics, and autovacuum would be analysing it while the report is timed.
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE after the move: {time.perf_counter() - started:.1f} s")

    async def build_there() -> dict:
        store = open_store(target, read_workers=1)
        await store.open()
        try:
            return await store.read(lambda db: build(db, WEEK))
        finally:
            await store.close()

    started, cpu = time.perf_counter(), time.process_time()
    report = asyncio.run(build_there())
    timings = {"build": time.perf_counter() - started}
    for fmt in ("json", "csv", "html"):
        started = time.perf_counter()
        render(report, fmt)
        timings[fmt] = time.perf_counter() - started
    elapsed, cpu = sum(timings.values()), time.process_time() - cpu
    print(f"weekly report {WEEK} on PostgreSQL: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in
                                                             timings.items()) + f"; total {elapsed:.2f} s"
          f" (CPU of this process {cpu:.2f} s; the server's is apart)")
    print(f"budget <= {BUDGET_SECONDS:.0f} s on PostgreSQL: {'MET' if elapsed <= BUDGET_SECONDS else 'NOT MET'} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def measure(path: Path, smoke: bool = False) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db = sqlite_utils.Database(conn)
    started = time.perf_counter()
    rows, total = db.execute("SELECT count(*), sum(CASE WHEN data_class = '' THEN events END) FROM usage_daily").fetchone()
    scan = time.perf_counter() - started
    timings = {}
    started, cpu = time.perf_counter(), time.process_time()
    report = build(db, WEEK)
    timings["build"] = time.perf_counter() - started
    rendered = {}
    for fmt in ("json", "csv", "html"):
        started = time.perf_counter()
        rendered[fmt] = render(report, fmt)
        timings[fmt] = time.perf_counter() - started
    cpu = time.process_time() - cpu
    started = time.perf_counter()
    rendered["pdf"] = to_pdf(report)  # layout by WeasyPrint: timed, outside the budget (not in DESIGN.md's)
    pdf_seconds = time.perf_counter() - started
    conn.close()
    elapsed = sum(timings.values())
    print(f"database: {path} ({path.stat().st_size / 1e6:.0f} MB): {rows:,} rollup rows holding "
          f"{total or 0:,} events")
    print(f"weekly report {WEEK}: {report['summary']['vendors_in_use']} vendors, {report['summary']['users']:,} users")
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()) + f"; total {elapsed:.2f} s"
          f" (CPU {cpu:.2f} s; and PDF {pdf_seconds:.2f} s, {len(rendered['pdf']) / 1e3:.0f} kB, outside the budget)")
    print(f"reference, same run: full scan of the rollup {scan:.2f} s; ratio report/scan {elapsed / max(scan, 1e-6):.1f}")
    if smoke:  # a broken bench must fail: the report saw the generated usage and rendered every format
        empty = [fmt for fmt, body in rendered.items() if not body]
        if not rows or not report["summary"]["users"] or not report["summary"]["vendors_in_use"] or empty:
            raise SystemExit(f"smoke: the report is empty (rows {rows}, summary {report['summary']}, "
                             f"empty formats {empty})")
        print("smoke: ok (sizes too small for the budget to mean anything)")
        return
    print(f"budget <= {BUDGET_SECONDS:.0f} s: {'MET' if elapsed <= BUDGET_SECONDS else 'NOT MET'} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
