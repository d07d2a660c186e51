"""The AI-tool catalog: valid data, real facts, correct host and process matching."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from shadowmap import contract
from shadowmap.detectors.catalog import BUNDLED_CATALOG, CatalogError, load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_bundled_catalog_is_schema_valid_and_large_enough(catalog):
    data = yaml.safe_load((BUNDLED_CATALOG / "core.yaml").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(contract.load("catalog.v1.json"))
    jsonschema.validate(data, contract.load("catalog.v1.json"))
    assert len(catalog.tools) >= 45
    ids = [tool.id for tool in catalog.tools]
    assert len(ids) == len(set(ids))


def test_load_is_cached(catalog):
    assert load_catalog() is catalog


@pytest.mark.parametrize("category", ["chat", "builder", "coding", "playground", "search", "local", "agent", "other"])
def test_every_category_is_represented(catalog, category):
    assert any(tool.category == category for tool in catalog.tools)


@pytest.mark.parametrize("host, tool_id", [
    ("chatgpt.com", "chatgpt"),
    ("chat.openai.com", "chatgpt"),
    ("CHATGPT.COM", "chatgpt"),
    ("chatgpt.com:443", "chatgpt"),
    ("ab.chatgpt.com.", "chatgpt"),
    ("https://chatgpt.com/c/123?x=1", "chatgpt"),
    ("claude.ai", "claude"),
    ("gemini.google.com", "gemini"),
    ("copilot.microsoft.com", "microsoft-copilot"),
    ("www.perplexity.ai", "perplexity"),
    ("chat.mistral.ai", "le-chat"),
    ("chat.deepseek.com", "deepseek"),
    ("grok.com", "grok"),
    ("lovable.dev", "lovable"),
    ("bolt.new", "bolt"),
    ("v0.dev", "v0"),
    ("v0.app", "v0"),
    ("replit.com", "replit"),
    ("cursor.com", "cursor"),
    ("platform.openai.com", "openai-platform"),
    ("api.openai.com", "openai-platform"),
    ("console.anthropic.com", "anthropic-console"),
    ("aistudio.google.com", "google-ai-studio"),
    ("huggingface.co", "huggingface"),
    ("api.githubcopilot.com", "github-copilot"),
    ("myresource.openai.azure.com", "azure-ai-foundry"),
])
def test_match_domain(catalog, host, tool_id):
    tool = catalog.match_domain(host)
    assert tool is not None and tool.id == tool_id


@pytest.mark.parametrize("host", [
    "notchatgpt.com", "chatgpt.com.evil.io", "openai.com", "google.com", "mistral.ai",
    "example.com", "", "   ", "[::1]:8080", "com", "ai",
])
def test_match_domain_non_matches(catalog, host):
    assert catalog.match_domain(host) is None


def test_match_domain_untrusted_input(catalog):
    assert catalog.match_domain(None) is None  # type: ignore[arg-type]
    assert catalog.match_domain("a" * 5000 + ".com") is None


@pytest.mark.parametrize("name, tool_id", [
    ("Cursor", "cursor"), ("Cursor.exe", "cursor"), ("cursor", "cursor"), ("copilot", "github-copilot"),
    ("claude", "claude-code"), ("Claude", "claude"), ("Claude.exe", "claude"),
    ("ollama", "ollama"), ("LM Studio", "lm-studio"), ("codex", "codex-cli"),
    ("/usr/local/bin/aider", "aider"), ("C:\\Program Files\\Windsurf\\Windsurf.exe", "windsurf"),
])
def test_match_process(catalog, name, tool_id):
    tool = catalog.match_process(name)
    assert tool is not None and tool.id == tool_id


# exact case: Copilot Money (a budgeting app) runs as "Copilot", GitHub Copilot's CLI as "copilot"
@pytest.mark.parametrize("name", ["python", "chrome", "", "code", None, "Copilot", "CURSOR", "Claude Code"])
def test_match_process_non_matches(catalog, name):
    assert catalog.match_process(name) is None


def test_bundle_and_id_lookup(catalog):
    assert catalog.match_bundle("com.openai.chat").id == "chatgpt"
    assert catalog.by_id("chatgpt").vendor == "OpenAI"
    assert catalog.by_id("nope") is None


def test_web_domains_sorted_and_complete(catalog):
    domains = catalog.web_domains()
    assert domains == sorted(set(domains))
    assert {"chatgpt.com", "chat.openai.com", "claude.ai", "lovable.dev", "bolt.new"} <= set(domains)
    assert "api.openai.com" not in domains  # API hosts are not pages to inject into


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "tools.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path


def _tool(**overrides):
    return {"id": "acme-ai", "name": "Acme AI", "vendor": "Acme", "category": "chat",
            "domains": ["acme-ai.example"], **overrides}


@pytest.mark.parametrize("tool, message", [
    (_tool(category="chatbot"), "tool 'acme-ai', field category"),
    (_tool(id="Acme AI"), "field id"),
    (_tool(domains=["https://acme.example/"]), "tool 'acme-ai', field domains/0"),
    (_tool(colour="red"), "tool 'acme-ai'"),
])
def test_invalid_catalog_names_tool_and_field(tmp_path, tool, message):
    with pytest.raises(CatalogError, match=message.replace("(", r"\(")):
        load_catalog(_write(tmp_path, {"version": 1, "tools": [tool]}))


def test_duplicate_domain_across_tools_refused(tmp_path):
    data = {"version": 1, "tools": [_tool(), _tool(id="other", domains=["acme-ai.example"])]}
    with pytest.raises(CatalogError, match="tool 'other': domain 'acme-ai.example' is already listed by tool 'acme-ai'"):
        load_catalog(_write(tmp_path, data))


def test_unreadable_catalog(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ntools: [ {", "utf-8")
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(path)
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "missing.yaml")


def test_catalog_import_does_not_load_the_engine():
    code = ("import sys; from shadowmap.detectors.catalog import load_catalog; load_catalog();"
            "print(sorted({'presidio_analyzer', 'spacy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []
