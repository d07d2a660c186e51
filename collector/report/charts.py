"""The weekly report's and the overview page's charts, drawn by matplotlib as SVG with text as paths (nothing in a
label, which may come from an imported CSV, can become markup or mathtext)."""
from __future__ import annotations

import io
import re

import matplotlib
from matplotlib.collections import LineCollection

from shadowmap.contract import enums

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

plt.rcParams.update({"svg.fonttype": "path", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
MAX_BARS = 20
MAX_FLOW_NODES = 15
CLASS_COLOURS = {"secret": "#b2182b", "payment": "#ef8a62", "pii": "#67a9cf", "production": "#2166ac"}
NEW_COLOUR, KNOWN_COLOUR = "#d95f02", "#7570b3"
# the contract's severities, most severe first, darkest first
SEVERITY_COLOURS = dict(zip(enums.SEVERITIES, ("#67001f", "#b2182b", "#ef8a62", "#92c5de", "#bababa"), strict=False))


def _label(text: str, limit: int = 40) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


_SVG_IDS = re.compile(r'(id="|href="#|url\(#)')


def _svg(figure, prefix: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # inline: drop the XML prolog and doctype
    # matplotlib names glyphs and groups alike in every chart: one page holds three of them
    return _SVG_IDS.sub(lambda m: m.group(1) + prefix + "-", svg)


def users_per_vendor(vendors: list[dict]) -> str:
    top = sorted(vendors, key=lambda v: (-v["users"], v["vendor"]))[:MAX_BARS][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.3 * len(top) + 1.2))
    axes.barh([_label(v["vendor"]) for v in top], [v["users"] for v in top],
              color=[NEW_COLOUR if v["new_this_week"] else KNOWN_COLOUR for v in top])
    axes.set_xlabel("users this week")
    axes.set_title("AI vendors by users (orange: new this week)")
    return _svg(figure, "users")


def data_classes_per_vendor(vendors: list[dict]) -> str:
    sending = [v for v in vendors if v["data_classes_sent"]]
    top = sorted(sending, key=lambda v: -sum(v["data_classes_sent"].values()))[:MAX_BARS][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.3 * max(len(top), 1) + 1.2))
    left = [0] * len(top)
    for data_class, colour in CLASS_COLOURS.items():
        values = [v["data_classes_sent"].get(data_class, 0) for v in top]
        axes.barh([_label(v["vendor"]) for v in top], values, left=left, color=colour, label=data_class)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlabel("events that carried the class to the vendor")
    axes.set_title("Data classes that reached each vendor")
    if top:
        axes.legend(loc="lower right", frameon=False)
    return _svg(figure, "classes")


def data_flow_map(flow: dict) -> str:
    """Teams -> tools -> data classes: three columns of nodes, line width by weight."""
    tool_weight: dict[str, int] = {}
    for edge in flow["team_to_tool"]:
        tool_weight[edge["tool"]] = tool_weight.get(edge["tool"], 0) + edge["users"]
    tools = sorted(tool_weight, key=lambda t: (-tool_weight[t], t))[:MAX_FLOW_NODES]
    team_edges = [e for e in flow["team_to_tool"] if e["tool"] in tools]
    class_edges = [e for e in flow["tool_to_data_class"] if e["tool"] in tools]
    teams = sorted({e["team"] for e in team_edges})[:MAX_FLOW_NODES]
    team_edges = [e for e in team_edges if e["team"] in teams]
    classes = sorted({e["data_class"] for e in class_edges})
    columns = [teams, tools, classes]
    position = {}
    for x, names in enumerate(columns):
        for i, name in enumerate(names):
            position[(x, name)] = (x, 1 - (i + 1) / (len(names) + 1))
    figure, axes = plt.subplots(figsize=(8, max(3.0, 0.35 * max(len(c) for c in columns) + 1)))
    # one collection per column of edges and one line of markers for the nodes: a few hundred
    # separate lines cost matplotlib a few hundred artists to lay out and draw
    heaviest = max([e["users"] for e in team_edges] + [1])
    axes.add_collection(LineCollection(
        [(position[(0, e["team"])], position[(1, e["tool"])]) for e in team_edges], colors=KNOWN_COLOUR, alpha=0.5,
        linewidths=[0.5 + 6 * e["users"] / heaviest for e in team_edges], zorder=2))
    heaviest = max([e["events"] for e in class_edges] + [1])
    axes.add_collection(LineCollection(
        [(position[(1, e["tool"])], position[(2, e["data_class"])]) for e in class_edges],
        colors=[CLASS_COLOURS.get(e["data_class"], "#999999") for e in class_edges], alpha=0.6,
        linewidths=[0.5 + 6 * e["events"] / heaviest for e in class_edges], zorder=2))
    axes.plot([px for px, _ in position.values()], [py for _, py in position.values()], "o", linestyle="none",
              color="#333333", markersize=4)
    for (x, name), (px, py) in position.items():
        axes.text(px + (-0.03 if x == 0 else 0.03), py, _label(name, 28), va="center",
                  ha="right" if x == 0 else "left")
    for x, title in enumerate(("teams", "tools", "data classes")):
        axes.text(x, 1.0, title, ha="center", va="bottom", fontweight="bold")
    axes.set_xlim(-0.6, 2.6)
    axes.set_ylim(-0.02, 1.06)
    axes.axis("off")
    axes.set_title("Data flow: teams → AI tools → data classes", pad=14)
    return _svg(figure, "flow")


def alerts_per_day(days: list[str], counts: dict[str, dict[str, int]], severities: tuple[str, ...]) -> str:
    """Alerts raised per day, stacked by severity (the overview's trend)."""
    figure, axes = plt.subplots(figsize=(8, 2.6))
    bottom = [0] * len(days)
    for severity in reversed(severities):  # most severe on top
        values = [counts.get(day, {}).get(severity, 0) for day in days]
        if any(values):
            axes.bar(range(len(days)), values, bottom=bottom, color=SEVERITY_COLOURS.get(severity, "#999999"),
                     label=severity, width=0.8)
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    step = max(1, len(days) // 10)
    axes.set_xticks(range(0, len(days), step), [_label(day[5:]) for day in days[::step]])
    axes.set_ylabel("alerts raised")
    axes.set_title(f"Alerts raised per day, last {len(days)} days")
    if any(bottom):
        axes.legend(loc="upper left", frameon=False, ncols=len(severities), fontsize=8)
    return _svg(figure, "trend")
