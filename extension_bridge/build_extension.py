"""Build the extension from the catalog and the contract: the Chromium manifest's matches,
the extension's constants (extension/generated/contract.js), the native host's request
validator (ipc_validate.py), and a Firefox build.

The catalog (detectors/data/catalog/) is the one list of AI tool domains; the manifest is
derived from it so the extension guards exactly the catalogued tools, and the unknown-AI
script runs everywhere else. The names and limits the extension shares with the host and
the agent come from the contract (extension_contract.py). Run `shadowmap bridge
build-extension` (or `python -m shadowmap.bridge.build_extension`) after editing the
catalog or the contract; tests keep the committed files in step. Chrome, Edge and Brave
load the same folder; Firefox gets a copy with its own manifest (`--firefox DIR`).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from shadowmap.bridge.extension_id import EXTENSION_DIR, MANIFEST_PATH

# the add-on id Firefox knows the extension by (host manifests list it in allowed_extensions),
# and its minimum version (ESR 128: MV3 background scripts, storage.managed)
from shadowmap.contract.host import FIREFOX_ADDON_ID, FIREFOX_MIN_VERSION

# The guard the service worker registers at run time for the policy's approved tools
# (extension/dynamic_guard.js) is injected only where the extension has host access, and
# those hosts are not known when the extension is built. The unknown-AI script already
# matches every https page, so this adds nothing to what the browser asks at install.
APPROVED_TOOL_HOSTS = "https://*/*"

# indexes in manifest["content_scripts"]: the guard (isolated world), the unknown-AI
# signal (every other page) and the File System Access gate (the page's main world)
GUARD_SCRIPT, UNKNOWN_AI_SCRIPT, MAIN_WORLD_SCRIPT = 0, 1, 2


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
    from shadowmap.detectors.catalog import load_catalog  # light import: YAML + schema only

    return match_patterns(load_catalog().web_domains())


def tenant_host_patterns() -> list[str]:
    """Where the extension may add tenant-restriction headers: the contract's vendor hosts."""
    from shadowmap.contract.host import TENANT_HEADERS

    return match_patterns([h for entry in TENANT_HEADERS for h in entry["hosts"]])


def render_manifest(manifest: dict, patterns: list[str]) -> str:
    updated = dict(manifest)
    # declarativeNetRequest modifies requests only to hosts the extension may access
    updated["host_permissions"] = [*tenant_host_patterns(), APPROVED_TOOL_HOSTS]
    scripts = [dict(entry) for entry in manifest["content_scripts"]]
    scripts[GUARD_SCRIPT]["matches"] = patterns
    scripts[UNKNOWN_AI_SCRIPT]["exclude_matches"] = patterns
    scripts[MAIN_WORLD_SCRIPT]["matches"] = patterns
    updated["content_scripts"] = scripts
    return json.dumps(updated, indent=2, ensure_ascii=False) + "\n"


def firefox_manifest(manifest: dict) -> dict:
    """The Chromium manifest as Firefox wants it: a gecko id instead of the pinned key, the
    service worker's module as a background script module (Firefox MV3 has no workers)."""
    ff = {k: v for k, v in manifest.items() if k not in ("key", "minimum_chrome_version", "background")}
    ff["background"] = {"scripts": [manifest["background"]["service_worker"]], "type": "module"}
    ff["browser_specific_settings"] = {"gecko": {"id": FIREFOX_ADDON_ID, "strict_min_version": FIREFOX_MIN_VERSION}}
    return ff


def build_firefox(out_dir: Path, source_dir: Path = EXTENSION_DIR) -> Path:
    """Copy the extension to `out_dir` with the Firefox manifest; returns the manifest path."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(source_dir, out_dir)
    manifest = json.loads((source_dir / "manifest.json").read_text("utf-8"))
    target = out_dir / "manifest.json"
    target.write_text(json.dumps(firefox_manifest(manifest), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return target


def build(manifest_path: Path = MANIFEST_PATH) -> list[str]:
    """Rewrite the manifest's matches, the extension's constants and the host's validator;
    returns the patterns written."""
    from shadowmap.bridge import extension_contract, ipc_codegen

    patterns = catalog_patterns()
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest_path.write_text(render_manifest(manifest, patterns), "utf-8")
    extension_contract.write()
    ipc_codegen.write()
    return patterns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firefox", type=Path, help="also write a Firefox build to this folder")
    args = parser.parse_args(argv)
    patterns = build()
    print(f"wrote {len(patterns)} match patterns to {MANIFEST_PATH}, the extension's constants and the "
          "host's request validator", file=sys.stderr)
    if args.firefox:
        print(f"wrote the Firefox build {build_firefox(args.firefox)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
