"""Calibrate the unknown-tool name rule: does `looks_like_ai` tell AI tools' names from others?

Labelled on ground the rule was not written from:
- AI (positive): the catalog's real products — their process names, web and API hosts;
- not AI (negative): this machine's executables (/usr/bin, /usr/sbin), its Debian package names,
  and the hosts named in its packages' copyright files (/usr/share/doc/*/copyright).
Each set is split in halves by a hash of the name: tune on `tune`, read figures on `report`.
Prints precision and recall per kind (process, host) and half, for the rule the agent and
collector share (shadowmap.detectors.ai_names) next to the collector's earlier word list,
measured in the same run; and the scores the collector gives a name-only sighting."""
from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shadowmap.detectors.ai_names import looks_like_ai  # noqa: E402
from shadowmap.detectors.catalog import load_catalog  # noqa: E402

# the collector's rule before this calibration (collector/alerts/unknown_tools.py, 2026-12-06)
EARLIER = re.compile(r"(?:^|[^a-z])(?:ai|gpt|llm|llms|chat|chatbot|copilot|agent|agents|llama|ollama|mistral|"
                     r"claude|gemini|prompt|genai|openai|ml|model|models|diffusion|whisper|rag)(?:[^a-z]|$)")
EARLIER_FRAGMENTS = ("gpt", "llm", "llama", "copilot", "genai", "chatbot")
HOST = re.compile(r"https?://([a-z0-9][a-z0-9.-]+\.[a-z]{2,})", re.I)


def earlier(name: str) -> bool:
    lowered = name.lower()
    return bool(EARLIER.search(lowered)) or any(f in lowered for f in EARLIER_FRAGMENTS)


def half(name: str) -> str:
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "report"


def positives() -> dict[str, set[str]]:
    catalog = load_catalog()
    return {"process": {p for t in catalog.tools for p in t.process_names},
            "host": {h for t in catalog.tools for h in (*t.domains, *t.api_domains)}}


def negatives(limit: int | None) -> dict[str, set[str]]:
    executables = {p.name for folder in ("/usr/bin", "/usr/sbin") for p in Path(folder).glob("*")}
    try:
        packages = set(subprocess.run(["dpkg-query", "-W", "-f", "${Package}\n"], capture_output=True, text=True,
                                      timeout=60).stdout.split())
    except (OSError, subprocess.SubprocessError):
        packages = set()
    hosts: set[str] = set()
    for path in sorted(Path("/usr/share/doc").glob("*/copyright"))[:limit]:
        try:
            hosts.update(h.lower().rstrip(".") for h in HOST.findall(path.read_text("utf-8", errors="replace")))
        except OSError:
            continue
    names = sorted(executables | packages)[:limit] if limit else executables | packages
    return {"process": set(names), "host": hosts}


def rates(rule, pos: set[str], neg: set[str]) -> tuple[float, float, int, list[str]]:
    tp = sum(1 for n in pos if rule(n))
    false = sorted(n for n in neg if rule(n))
    precision = tp / (tp + len(false)) if tp + len(false) else 0.0
    return precision, tp / len(pos) if pos else 0.0, len(false), false


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few hundred negatives only")
    parser.add_argument("--show", type=int, default=12, help="false positives listed per row")
    args = parser.parse_args()
    pos, neg = positives(), negatives(300 if args.smoke else None)
    print(f"{'kind':8} {'half':6} {'rule':8} {'precision':>9} {'recall':>7} {'false+':>7}  AI / not-AI names")
    for kind in ("process", "host"):
        for which in ("tune", "report"):
            p = {n for n in pos[kind] if half(n) == which}
            n = {x for x in neg[kind] if half(x) == which} - pos[kind]
            for label, rule in (("shared", looks_like_ai), ("earlier", earlier)):
                precision, recall, false_count, false = rates(rule, p, n)
                print(f"{kind:8} {which:6} {label:8} {precision:9.2f} {recall:7.2f} {false_count:7d}  "
                      f"{len(p)} / {len(n)}" + (f"   e.g. {', '.join(false[:args.show])}" if false else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
