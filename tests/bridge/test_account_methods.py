"""Issue 19 names ten AI tools whose signed-in account the extension must learn: each has an
`account` block in the catalog (detectors/data/catalog/core.yaml), with at least one way to
read the account and a source, and it reaches the extension (generated/contract.js
`accounts`, built by extension_contract.account_methods) on the tool's web hosts."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shadowmap.bridge.extension_contract import account_methods
from shadowmap.detectors.catalog import BUNDLED_CATALOG

# the list, by the catalog's tool names ("Cursor's web app" is the Cursor entry's web host)
NAMED_TOOLS = ("ChatGPT", "Claude", "Gemini", "Microsoft Copilot", "Perplexity", "Lovable", "Bolt", "v0",
               "Replit", "Cursor")
READS = ("email_inputs", "account_labels")      # a form field or a label; or hint_params with oauth_hosts


def catalog_tools() -> dict[str, dict]:
    core = yaml.safe_load(Path(BUNDLED_CATALOG / "core.yaml").read_text("utf-8"))
    return {tool["name"]: tool for tool in core["tools"]}


@pytest.mark.parametrize("name", NAMED_TOOLS)
def test_each_named_tool_has_an_account_block_in_the_catalog(name):
    tool = catalog_tools().get(name)
    assert tool is not None, f"{name} is not in core.yaml"
    account = tool.get("account")
    assert account, f"{name} has no account block"
    assert account["source"].strip(), name
    reads = [key for key in READS if account.get(key)]
    if account.get("hint_params") and account.get("oauth_hosts"):
        reads.append("hint_params")
    assert reads, f"{name}'s account block names no way to read the account"
    assert tool.get("domains"), f"{name} has no web host to read it on"


def test_the_extension_gets_every_named_tools_method_on_its_hosts():
    methods = {method["tool_id"]: method for method in account_methods()}
    for name in NAMED_TOOLS:
        tool = catalog_tools()[name]
        method = methods.get(tool["id"])
        assert method is not None, f"{name} ({tool['id']}) is missing from the contract's accounts"
        assert method["domains"] == tool["domains"] and "source" not in method
