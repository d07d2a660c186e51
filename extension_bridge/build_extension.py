"""Regenerate the extension manifest's content-script `matches` from the AI-tool catalog.

The catalog (detectors/data/catalog/) is the one list of AI tool domains; the
manifest is derived from it so the extension watches exactly the catalogued tools.
Run `python -m extension_bridge.build_extension` after editing the catalog; a test keeps
the committed manifest in step.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from extension_bridge.extension_id import MANIFEST_PATH


def match_patterns(domains: list[str]) -> list[str]:
    """`https://DOMAIN/*` and `https://*.DOMAIN/*` for every domain, sorted, no repeats."""
    patterns: set[str] = set()
    for domain in domains:
        host = domain.strip().lower().rstrip(".")
        if host:
            patterns.add(f"https://{host}/*")
            patterns.add(f"https://*.{host}/*")
    return sorted(patterns)


def catalog_patterns() -> list[str]:
    from detectors.catalog import load_catalog  # light import: YAML + schema only

    return match_patterns(load_catalog().web_domains())


def render_manifest(manifest: dict, patterns: list[str]) -> str:
    updated = dict(manifest)
    scripts = [dict(entry) for entry in manifest["content_scripts"]]
    scripts[0]["matches"] = patterns
    updated["content_scripts"] = scripts
    return json.dumps(updated, indent=2, ensure_ascii=False) + "\n"


def build(manifest_path: Path = MANIFEST_PATH) -> list[str]:
    """Rewrite the manifest's matches; returns the patterns written."""
    patterns = catalog_patterns()
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest_path.write_text(render_manifest(manifest, patterns), "utf-8")
    return patterns


def main() -> int:
    patterns = build()
    print(f"wrote {len(patterns)} match patterns to {MANIFEST_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
