"""Files and screenshots read for the scan (detectors/files, detectors/ocr.py), measured.

  xlsx        a ~5 MB XLSX of customer rows: read (openpyxl read-only, within the bounds)
              and scanned by the real engine, its sheet column by column as the files'
              scan reads tables (detectors/files/table_scan.py); the bounds hit as the
              verdict states them
  screenshot  a 1920x1080 PNG of an admin page's customer table: OCR (as tuned) + scan,
              p50 over --runs, CPU time too; emails and phones found out of those planted
Reference, measured in the same run: the same text scanned as plain text (the engine alone),
and for the screenshot RapidOCR with its default settings (one run; --no-default-ocr skips it).
Budgets (DESIGN.md, issue 15): XLSX <= 2 s; screenshot OCR + scan p50 <= 1.5 s.

    .venv/bin/python bench/files.py [--runs 5] [--xlsx-mb 5]
    .venv/bin/python bench/files.py --only xlsx  # or --only screenshot
    .venv/bin/python bench/files.py --smoke     # a small sheet and image, one run, no default-OCR reference
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the test samples (real files written by their libraries): imported where used, from tests/
sys.path.insert(0, str(REPO / "tests"))

XLSX_BUDGET_S = 2.0
SCREENSHOT_BUDGET_S = 1.5


def timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def sheet_of_size(megabytes: float) -> tuple[bytes, int]:
    """An XLSX of customer rows of about ``megabytes`` (cached in /tmp: it takes a while to write)."""
    from support.file_samples import xlsx
    cache = Path(tempfile.gettempdir()) / f"shadowmap-bench-customers-{megabytes:g}mb.xlsx"
    if cache.is_file():
        data = cache.read_bytes()
        return data, int(cache.with_suffix(".rows").read_text())
    per_row = len(xlsx(2000)) / 2000
    rows = int(megabytes * 1_000_000 / per_row)
    data = xlsx(rows, extra_sheets=())
    cache.write_bytes(data)
    cache.with_suffix(".rows").write_text(str(rows))
    return data, rows


def bench_xlsx(engine, megabytes: float) -> bool:
    from support.file_samples import xlsx

    from shadowmap.detectors.files import read_file
    from shadowmap.detectors.files.table_scan import scan_tables
    data, rows = sheet_of_size(megabytes)
    # a small sheet read first: the reader's modules are imported once per agent, not per
    # file (openpyxl itself is imported by the sample writer above, outside the timings)
    small = xlsx(5)
    _, first_s, first_cpu = timed(lambda: read_file(small))
    got, read_s, read_cpu = timed(lambda: read_file(data))
    found, scan_s, scan_cpu = timed(lambda: scan_tables(engine, got.text, got.tables))
    as_text, ref_s, ref_cpu = timed(lambda: engine.scan(got.text))    # the same text, as a paste
    total = read_s + scan_s
    places = sorted({got.place_of(f.start) or "?" for f in found})
    print(f"xlsx: {len(data) / 1e6:.2f} MB, {rows:,} customer rows; format {got.format}; "
          f"{len(got.text):,} characters read")
    print(f"  bounds hit: {got.bounds_hit or 'none'}")
    print(f"  a 5-row sheet read first (imports the reader's modules): {first_s:.3f} s (cpu {first_cpu:.3f}), "
          "not counted below")
    print(f"  findings: {len(found):,} in {places}; {kinds(found)}; limits {[x.kind for x in found.limits]}")
    print(f"  the same text as a paste: {len(as_text):,} findings; {kinds(as_text)}; "
          f"limits {[x.kind for x in as_text.limits]}")
    print("                      wall s   cpu s")
    print(f"  read (extract)    {read_s:8.3f} {read_cpu:7.3f}")
    print(f"  scan              {scan_s:8.3f} {scan_cpu:7.3f}")
    print(f"  read + scan       {total:8.3f} {read_cpu + scan_cpu:7.3f}")
    print(f"  reference: the same text scanned as plain text {ref_s:.3f} s (cpu {ref_cpu:.3f}); "
          f"ratio {total / ref_s:.2f}")
    print(f"  budget {XLSX_BUDGET_S} s: {'MET' if total <= XLSX_BUDGET_S else 'NOT MET'} (wall), "
          f"{'MET' if read_cpu + scan_cpu <= XLSX_BUDGET_S else 'NOT MET'} (cpu)")
    return bool(found)


def kinds(findings) -> str:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.entity_type] = counts.get(finding.entity_type, 0) + 1
    return ", ".join(f"{kind} {count:,}" for kind, count in sorted(counts.items()))


def default_ocr_reference(png: bytes, records) -> None:
    from rapidocr_onnxruntime import RapidOCR
    engine = RapidOCR()
    (result, _), wall, cpu = timed(lambda: engine(png))
    text = "\n".join(line[1] for line in (result or []))
    emails = sum(record[2] in text for record in records)
    print(f"  reference: RapidOCR defaults (angle classifier, 48 px recognition): {wall:.2f} s (cpu {cpu:.2f}), "
          f"{len(result or [])} boxes, {emails}/{len(records)} emails read exactly")


def bench_screenshot(engine, runs: int, size: tuple[int, int], rows: int, default_reference: bool) -> bool:
    from support.file_samples import screenshot

    from shadowmap.detectors.ocr import ScreenshotReader
    png, records = screenshot(rows=rows, size=size)
    reader = ScreenshotReader()
    _, load_s, _ = timed(lambda: reader.read(png))               # verify + load + first image
    walls, cpus, ocr_walls, found = [], [], [], []
    for _ in range(runs):
        def once():
            text = reader.read(png)
            return text, engine.scan(text.text)
        (text, found), wall, cpu = timed(once)
        walls.append(wall)
        cpus.append(cpu)
        ocr_walls.append(text.seconds)
    _, ref_s, _ = timed(lambda: engine.scan(text.text))
    emails = {text.text[f.start:f.end] for f in found if f.entity_type == "EMAIL_ADDRESS"}
    phones = [f for f in found if f.entity_type == "PHONE_NUMBER"]
    planted = {record[2] for record in records}
    p50, cpu50 = statistics.median(walls), statistics.median(cpus)
    print(f"screenshot: {size[0]}x{size[1]} PNG, {rows} customer rows, {len(png) / 1e3:.0f} KB; "
          f"{text.boxes} text boxes, {text.lines} lines; threads {reader.threads}")
    print(f"  first image (verify + load + read): {load_s:.2f} s")
    print(f"  OCR + scan p50 {p50:.3f} s (runs: {', '.join(f'{w:.2f}' for w in walls)}); cpu p50 {cpu50:.3f} s; "
          f"OCR alone p50 {statistics.median(ocr_walls):.3f} s")
    print(f"  found: {len(planted & emails)}/{len(records)} planted emails, {len(phones)} phone numbers "
          f"({len(records)} planted)")
    print(f"  reference: the OCR'd text scanned as plain text {ref_s:.3f} s; ratio {p50 / ref_s:.1f}")
    if default_reference:
        default_ocr_reference(png, records)
    print(f"  budget {SCREENSHOT_BUDGET_S} s p50: {'MET' if p50 <= SCREENSHOT_BUDGET_S else 'NOT MET'} (wall), "
          f"{'MET' if cpu50 <= SCREENSHOT_BUDGET_S else 'NOT MET'} (cpu)")
    return bool(emails) and bool(phones)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--xlsx-mb", type=float, default=5.0)
    parser.add_argument("--no-default-ocr", action="store_true", help="skip the RapidOCR-defaults reference")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run: fails when the bench is broken")
    parser.add_argument("--only", choices=("xlsx", "screenshot"), help="one of the two benches")
    args = parser.parse_args()
    from shadowmap.detectors.engine import DetectorSettings, ScanEngine
    load = os.getloadavg()[0]
    engine = ScanEngine(DetectorSettings())
    print(f"machine: {os.cpu_count()} cores, load average (1 min) {load:.1f}")
    if args.smoke:
        ok = bench_xlsx(engine, 0.1) and bench_screenshot(engine, 1, (1280, 300), 4, False)  # wide enough for the phone column
    else:
        ok = ((args.only == "screenshot" or bench_xlsx(engine, args.xlsx_mb))
              and (args.only == "xlsx" or bench_screenshot(engine, args.runs, (1920, 1080), 25, not args.no_default_ocr)))
    print(f"load average (1 min) after: {os.getloadavg()[0]:.1f}")
    if not ok:
        print("broken: a bench found nothing in data full of personal records", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
