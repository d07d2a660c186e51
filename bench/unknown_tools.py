"""Calibrate the unknown-tool score: the name rule, and the weights of the signals that facts
about known AI and non-AI tools determine.

The labelled set (bench/eval/unknown_tools_set.py) is built on ground neither the rule nor the
weights were written from: AI are the catalog's products (process names, web/API hosts, and
listeners on model servers' documented ports); not AI are this machine's executables and Debian
package names, the hosts in its packages' copyright files, the TCP services of /etc/services on
their registered ports and the web servers installed here on their default ports. Each tool
carries the signals the collector gives a sighting of it. Tools are split in halves by a hash of
the name: the name rule's words were tuned, and the weights are fitted, on `tune`; figures are
read on `report`.

Fitting: a signal's weight in the noisy-OR is the chance that a tool showing it is an AI tool,
so it is fitted as P(AI | signal) on the tune half with add-one smoothing, (tp + 1) / (tp + fp + 2),
over the kinds whose facts determine it (ai_name: processes and hosts; ai_tld: hosts;
local_model_port: listeners). With false positives it depends on the set's mix of AI and not AI;
without any it is bounded by the few AI tools seen, (tp + 1) / (tp + 2). The other signals are
not fitted: process_running and network_connection come with every process or host sighting, so
their precision is only the set's share of AI tools; the behaviour signals have no labelled data.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "eval")]

from unknown_tools_set import Tool, ai_tools, non_ai_tools  # noqa: E402

from shadowmap.collector.alerts.unknown_tools import ALERT_SCORE, WEIGHTS, score  # noqa: E402
from shadowmap.detectors.ai_names import DISTINCT_MODEL_PORTS, MODEL_PORTS, looks_like_ai  # noqa: E402

# the collector's rule before the name calibration (collector/alerts/unknown_tools.py, 2026-12-06)
EARLIER = re.compile(r"(?:^|[^a-z])(?:ai|gpt|llm|llms|chat|chatbot|copilot|agent|agents|llama|ollama|mistral|"
                     r"claude|gemini|prompt|genai|openai|ml|model|models|diffusion|whisper|rag)(?:[^a-z]|$)")
EARLIER_FRAGMENTS = ("gpt", "llm", "llama", "copilot", "genai", "chatbot")
# signal -> the kinds of tool whose facts determine it
FITTED = {"ai_name": ("process", "host"), "ai_tld": ("host",), "local_model_port": ("listener",)}
ALWAYS = {"process_running": "process", "network_connection": "host"}
BEHAVIOUR = {"pasted_into": "which tools users pasted into",
             "chat_input_paste": "which pages took a large paste into a chat-like input",
             "seen_in_browser": "which hosts the extension saw",
             "several_devices": "on how many devices each tool was seen"}
KINDS = ("process", "host", "listener")
# the hand-set weights before this calibration (collector/alerts/unknown_tools.py, 2026-12-07 morning)
HAND_SET = {"ai_tld": 0.35, "ai_name": 0.35, "local_model_port": 0.4}
# fitted but kept: what a weight decides alone must hold on the non-AI tools that could show it
NOT_ADOPTED = {"local_model_port": "alone it would raise the alert on any plain-named listener on a distinct model "
                                   "port, and non-AI programs use them by default (iperf2's server on 5001: the "
                                   "listener row below)"}


def earlier(name: str) -> bool:
    lowered = name.lower()
    return bool(EARLIER.search(lowered)) or any(f in lowered for f in EARLIER_FRAGMENTS)


def precision_recall(tp: int, fp: int, positives: int) -> str:
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "  -  "
    return f"{precision:>9} {tp / positives if positives else 0.0:7.2f}"


def name_rule(tools: list[Tool], show: int) -> None:
    print("The name rule, on names: shared = detectors/ai_names.py (agent and collector), earlier = the "
          "collector's word list before it")
    print(f"{'kind':8} {'half':6} {'rule':8} {'precision':>9} {'recall':>7} {'false+':>7}  AI / not-AI names")
    for kind in ("process", "host"):
        for which in ("tune", "report"):
            pos = {t.name for t in tools if t.kind == kind and t.half == which and t.ai}
            neg = {t.name for t in tools if t.kind == kind and t.half == which and not t.ai} - pos
            for label, rule in (("shared", looks_like_ai), ("earlier", earlier)):
                tp, false = sum(1 for n in pos if rule(n)), sorted(n for n in neg if rule(n))
                print(f"{kind:8} {which:6} {label:8} {precision_recall(tp, len(false), len(pos))} {len(false):7d}  "
                      f"{len(pos)} / {len(neg)}" + (f"   e.g. {', '.join(false[:show])}" if false else ""))


def fit(tools: list[Tool]) -> dict[str, tuple[float, int, int]]:
    """signal -> (fitted weight, AI tools with it, non-AI tools with it), on the tune half."""
    fitted = {}
    for signal, kinds in FITTED.items():
        showing = [t for t in tools if t.half == "tune" and t.kind in kinds and signal in t.signals]
        tp = sum(t.ai for t in showing)
        fp = len(showing) - tp
        fitted[signal] = (round((tp + 1) / (tp + fp + 2), 2), tp, fp)
    return fitted


def weights_table(tools: list[Tool], fitted: dict[str, tuple[float, int, int]]) -> None:
    print("\nWeights (noisy-OR; fitted = (tp + 1) / (tp + fp + 2) on the tune half)")
    print(f"{'signal':18} {'before':>7} {'current':>7} {'fitted':>7}  evidence")
    for signal, (weight, tp, fp) in fitted.items():
        kinds = FITTED[signal]
        total = sum(1 for t in tools if t.half == "tune" and t.kind in kinds)
        print(f"{signal:18} {HAND_SET[signal]:7.2f} {WEIGHTS[signal]:7.2f} {weight:7.2f}  {tp} AI and {fp} not-AI of {total} tune "
              f"{'/'.join(kinds)} tools show it" + (f"; NOT ADOPTED: {NOT_ADOPTED[signal]}" if signal in NOT_ADOPTED
                                                    else ""))
    tld_only = sum(1 for t in tools if "ai_tld" in t.signals and "ai_name" not in t.signals)
    print(f"{'':42}hosts under .ai without ai_name: {tld_only} (\"ai\" is one of the rule's words)")
    on_ports = sorted(t.label for t in tools if t.kind == "listener" and not t.ai and t.port in MODEL_PORTS)
    distinct = [label for label in on_ports if int(label.rsplit(":", 1)[1]) in DISTINCT_MODEL_PORTS]
    print(f"{'':42}non-AI listeners on a model port, both halves: {len(on_ports)} ({', '.join(on_ports)}), "
          f"{len(distinct)} on a distinct one")
    for signal, kind in ALWAYS.items():
        of_kind = [t for t in tools if t.half == "tune" and t.kind == kind]
        share = sum(t.ai for t in of_kind) / len(of_kind) if of_kind else 0.0
        print(f"{signal:18} {WEIGHTS[signal]:7.2f} {WEIGHTS[signal]:7.2f} {'-':>7}  not fitted: every {kind} sighting has it "
              f"({len(of_kind)} tune tools), so P(AI | it) = {share:.2f} is the set's share of AI tools")
    for signal, missing in BEHAVIOUR.items():
        print(f"{signal:18} {WEIGHTS[signal]:7.2f} {WEIGHTS[signal]:7.2f} {'-':>7}  not fitted: no labelled record here of {missing}")


def alerts_table(tools: list[Tool], sets: dict[str, dict[str, float]], show: int) -> None:
    print(f"\nAlerts (score >= {ALERT_SCORE}) on the report half, per kind")
    print(f"{'kind':9} {'weights':8} {'precision':>9} {'recall':>7} {'false+':>7}  alerted AI / AI, false+ / not-AI")
    for kind in KINDS:
        of_kind = [t for t in tools if t.kind == kind and t.half == "report"]
        pos, neg = [t for t in of_kind if t.ai], [t for t in of_kind if not t.ai]
        for label, weights in sets.items():
            tp = sum(score(t.signals, weights) >= ALERT_SCORE for t in pos)
            false = sorted(t.label for t in neg if score(t.signals, weights) >= ALERT_SCORE)
            print(f"{kind:9} {label:8} {precision_recall(tp, len(false), len(pos))} {len(false):7d}  "
                  f"{tp} / {len(pos)}, {len(false)} / {len(neg)}" + (f"   e.g. {', '.join(false[:show])}" if false
                                                                      else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few hundred negatives of each source only")
    parser.add_argument("--show", type=int, default=12, help="false positives listed per row")
    args = parser.parse_args()
    negatives, notes = non_ai_tools(300 if args.smoke else None)
    tools = ai_tools() + negatives
    for note in notes:
        print(f"note: {note}")
    name_rule(tools, args.show)
    fitted = fit(tools)
    weights_table(tools, fitted)
    alerts_table(tools, {"before": WEIGHTS | HAND_SET, "current": dict(WEIGHTS),
                         "fitted": WEIGHTS | {s: w for s, (w, _, _) in fitted.items()}}, args.show)
    adopted = {s: w for s, (w, _, _) in fitted.items() if s not in NOT_ADOPTED}
    if any(WEIGHTS[s] != w for s, w in adopted.items()):
        print(f"\nnote: the collector's weights differ from the adopted fit {adopted}: update SIGNALS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
