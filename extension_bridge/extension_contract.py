"""Generate the extension's constants from the contract: extension/generated/contract.js.

The extension is plain JavaScript with no build step of its own, so what it shares with the
host, the agent and the detectors is written here, from the one declaration of each
(schema/host.v1.json, enums.v1.json, ipc.v1.json, and the detectors' entity types), into a
classic script that sets `globalThis.shadowmapContract` (frozen). Content scripts list it
first in the manifest; the module service worker imports it. `shadowmap bridge
build-extension` rewrites it; a test fails when the committed file is stale.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shadowmap import contract
from shadowmap.bridge.extension_id import EXTENSION_DIR
from shadowmap.contract import enums, host

GENERATED_DIR = EXTENSION_DIR / "generated"
CONTRACT_JS = GENERATED_DIR / "contract.js"
# the path the manifest and the service worker name it by
CONTRACT_JS_NAME = "generated/contract.js"


def _plain(reason: str, data_class: str) -> str:
    """A detector's reason as words inside a sentence: 'Email address' -> 'email address'.
    Secrets are mostly named after their vendor ('Slack token'), so they keep their case."""
    first = reason.split(" ", 1)[0]
    if data_class != "secret" and first[:1].isupper() and first[1:].islower():
        return reason[:1].lower() + reason[1:]
    return reason


def entity_words() -> dict[str, str]:
    """Every built-in entity type the detectors report -> how the extension names it."""
    from shadowmap.detectors.recognizers import build_secret_recognizers  # light: no NLP model
    from shadowmap.detectors.recognizers.pii import PII_ENTITIES
    from shadowmap.detectors.recognizers.production import PRODUCTION_ENTITIES

    labels: dict[str, tuple[str, str]] = {**PII_ENTITIES, **PRODUCTION_ENTITIES}
    for recognizer in build_secret_recognizers():
        labels[recognizer.entity_type] = (recognizer.data_class, recognizer.reason)
    return {entity: _plain(reason, data_class) for entity, (data_class, reason) in sorted(labels.items())}


def account_methods() -> list[dict[str, Any]]:
    """How each catalogued tool shows its signed-in account (the catalog's `account`, without
    its source note), with the tool's web hosts: what accounts.js reads on those pages."""
    import yaml

    from shadowmap.detectors.catalog import BUNDLED_CATALOG, load_catalog

    load_catalog()   # the files meet the catalog schema (else CatalogError)
    methods = []
    for path in sorted(BUNDLED_CATALOG.glob("*.yaml")):
        for tool in yaml.safe_load(path.read_text("utf-8"))["tools"]:
            if tool.get("account") and tool.get("domains"):
                facts = {k: v for k, v in tool["account"].items() if k != "source"}
                methods.append({"tool_id": tool["id"], "domains": tool["domains"], **facts})
    return methods


def constants() -> dict[str, Any]:
    ipc = contract.load(contract.IPC_SCHEMA)["$defs"]
    return {
        "hostName": host.HOST_NAME,
        "agentUnavailableDefault": host.AGENT_UNAVAILABLE_DEFAULT,
        "limits": {
            "replyTimeoutMs": round(host.EXTENSION_REPLY_TIMEOUT_S * 1000),
            "scanTextBytes": host.MAX_SCAN_TEXT,
            "textReadBytes": host.EXTENSION_TEXT_READ,
            "maxFiles": host.MAX_FILES,
            "fileContentBytes": host.MAX_FILE_CONTENT,
            "fileContentTotalBytes": host.MAX_FILES_CONTENT,
            "maxJustification": host.MAX_JUSTIFICATION,
        },
        "enums": {
            "action": list(enums.ACTIONS),
            "agentUnavailableMode": list(enums.AGENT_UNAVAILABLE_MODES),
            "channel": list(enums.CHANNELS),
            "dataClass": list(enums.DATA_CLASSES),
            "inputKind": list(enums.values("input_kind")),
            "overrideDecision": list(enums.OVERRIDE_DECISIONS),
            "severity": list(enums.SEVERITIES),
        },
        "ipc": {
            "requestTypes": list(ipc["request_type"]["enum"]),
            "contentRequestTypes": list(ipc["content_request_type"]["enum"]),
            # the fields each request a content script sends may carry (the background relays only these)
            "requestFields": {kind: list(ipc[f"{kind}_request"]["properties"])
                              for kind in ipc["content_request_type"]["enum"]},
            "offlineActions": list(ipc["offline_action"]["enum"]),
            "errorCodes": list(ipc["error_code"]["enum"]),
        },
        "entityWords": entity_words(),
        # policy key -> the header the extension sets on the vendor's hosts (declarativeNetRequest):
        # subdomains false = those hosts exactly; value = the fixed value of a switch (policy true)
        "tenantHeaders": [{k: h[k] for k in ("policy_key", "header", "hosts", "subdomains", "join", "value") if k in h}
                          for h in host.TENANT_HEADERS],
        # where each AI tool shows its signed-in account (accounts.js): catalog data
        "accounts": account_methods(),
        # where a sign-in link names its Entra tenant (accounts.js: the first path segment)
        "entraTenantInPath": host.ENTRA_TENANT_IN_PATH,
    }


def render() -> str:
    body = json.dumps(constants(), indent=2, ensure_ascii=False)
    return (
        "// GENERATED by `shadowmap bridge build-extension` (shadowmap.bridge.extension_contract)\n"
        "// from schema/host.v1.json, enums.v1.json, ipc.v1.json and the detectors: do not edit.\n"
        "// A classic script: content scripts load it first; the module service worker imports it.\n"
        "'use strict';\n\n"
        "(() => {\n"
        "  const freeze = (value) => {\n"
        "    if (value && typeof value === 'object') Object.values(value).forEach(freeze);\n"
        "    return Object.freeze(value);\n"
        "  };\n"
        f"  globalThis.shadowmapContract = freeze({_indent(body)});\n"
        "})();\n"
    )


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def write(target: Path = CONTRACT_JS) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), "utf-8")
    return target
