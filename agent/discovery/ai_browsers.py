"""AI browsers (Perplexity Comet, Dia, ChatGPT Atlas, Opera Neon, Genspark Browser): installed
for a user when their user-data folder exists in the user's home (the System and Guest
profiles are no user's); each profile is checked for
the shadowmap extension, since an extension force-installed into Chrome is not in these
browsers. The facts (folders per OS, bundle ids, the tool each sends data to) are data, with
their sources, in detectors/data/ai_browsers.yaml; Edge's Copilot Mode is listed there as not
detected, with what was searched."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from shadowmap.agent.discovery import Observation
from shadowmap.agent.discovery.protection import extension_state, profiles
from shadowmap.detectors.catalog import BUNDLED_CATALOG

FACTS_FILE = BUNDLED_CATALOG.parent / "ai_browsers.yaml"


@functools.cache
def browsers() -> list[dict[str, Any]]:
    with open(FACTS_FILE, encoding="utf-8") as fh:
        return list(yaml.safe_load(fh)["browsers"])


def _platform(platform: str) -> str:
    return "linux" if platform.startswith("linux") else platform


def _profile_folders(user_data: Path) -> list[Path]:
    """Chromium profiles (Default, Profile N); for an Opera build, whose user-data folder is its
    profile (Preferences and Extensions at its top), that folder; for Atlas, one folder per
    profile holding them."""
    found = profiles(user_data)
    if found:
        return found
    if (user_data / "Preferences").is_file():
        return [user_data]
    try:
        return [p for sub in sorted(user_data.iterdir()) if sub.is_dir() for p in profiles(sub) or [sub]
                if (p / "Preferences").is_file()]
    except OSError:
        return []


def _version(user_data: Path) -> str | None:
    try:
        return (user_data / "Last Version").read_text("utf-8").strip()[:64] or None
    except OSError:
        return None


def scan(homes: Iterable[tuple[str, Path]], our_ids: set[str], platform: str = sys.platform) -> list[Observation]:
    found = []
    for user, home in homes:
        for browser in browsers():
            for rel in browser.get("user_data", {}).get(_platform(platform), ()):
                user_data = home / rel
                if not user_data.is_dir():
                    continue
                states = [{"profile": p.name[:256], "extension": extension_state(p, our_ids)}
                          for p in _profile_folders(user_data)][:50]
                data: dict[str, Any] = {"browser_id": browser["id"], "name": browser["name"],
                                        "tool_id": browser.get("tool_id"), "profiles": states}
                version = _version(user_data)
                if version:
                    data["version"] = version
                key = ("ai_browser", user, browser["id"], str(user_data))
                found.append(Observation("ai_browser.observed", key, json.dumps([version, states]), user, data))
                break
    return found
