"""The vendor formats declared as data (detectors/data/secret_formats.yaml): each type is
found in a config line, and a placeholder of the same shape next to the same name is not.
The values are drawn from each format's own regex (bench/eval/generate.py); the table is
the family table the registry test reads."""
import importlib.util
import random
from pathlib import Path

import pytest
import yaml

from shadowmap.detectors.recognizers.secrets.formats import (
    FORMATS_FILE,
    SecretFormatError,
    format_classes,
    named_pattern,
)

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("_eval_generate", ROOT / "bench" / "eval" / "generate.py")
_generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_generate)

ENTRIES = yaml.safe_load(FORMATS_FILE.read_text())


def _value(entry: dict) -> str:
    # Drawn until it passes the entropy gate a random value passes almost always; each
    # entry from its own seed, so adding an entry does not redraw the others.
    rng = random.Random(f"formats {entry['id']}")
    for _ in range(20):
        value = _generate.sample_of(entry["value"], rng)
        if len(set(value)) >= 8:
            return value
    return value


def _masked(value: str, keywords: list[str]) -> str:
    """The value with its random part replaced by one repeated character: a documented
    placeholder of the same shape."""
    fixed = next((k for k in sorted(keywords, key=len, reverse=True) if value.startswith(k)), "")
    return fixed + value[-1] * (len(value) - len(fixed))


def _line(entry: dict, value: str) -> str:
    name = entry["keywords"][0].replace("-", "_") if entry["kind"] == "named" else "config"
    return f'{name}_value = "{value}"'


CASES = []
for _entry in ENTRIES:
    _v = _value(_entry)
    CASES.append((_entry["entity_type"], _line(_entry, _v), [_v]))
    CASES.append((_entry["entity_type"], _line(_entry, _masked(_v, _entry["keywords"])), []))


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_format_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected


def test_at_least_150_formats_each_with_its_source():
    assert len(ENTRIES) >= 150
    assert all(entry["source"].startswith(("https://", "gitleaks/")) for entry in ENTRIES)


SYNTAXES = [
    'algoliaToken = "{s}"', '$algoliaToken .= "{s}"', '  "algoliaToken" => "{s}"', "algolia_token: '{s}'",
    'System.setProperty("ALGOLIA_TOKEN", "{s}");', "ALGOLIA_TOKEN ?= \"{s}\"", "algolia-token={s}",
    '<add key="algoliaToken" value="{s}" />', "<algoliaToken>{s}</algoliaToken>", "algolia_token: |\n  {s}",
    'var algoliaToken string = "{s}"', "ALGOLIA_TOKEN := `{s}`", '{{"algolia_token": "{s}"}}',
]
ALGOLIA = "4f2b57f63d654f75852777dc278aaf63"


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_named_value_in_every_syntax(spans, syntax):
    assert spans(syntax.format(s=ALGOLIA), "ALGOLIA_API_KEY") == [ALGOLIA]


@pytest.mark.parametrize("text", [
    'algoliaToken = "your-algolia-api-key-here"',          # placeholder
    'algoliaToken = "00000000000000000000000000000000"',   # mask
    'nonalgoliahash = "4f2b57f63d654f75852777dc278aaf63"',  # the word inside another word
    'algoliaToken == "4f2b57f63d654f75852777dc278aaf63"',   # a comparison, not an assignment
    'algoliaToken = "4f2b57f63d654f75852777dc278aaf63ab"',  # longer than the format
])
def test_named_near_misses(spans, text):
    assert spans(text, "ALGOLIA_API_KEY") == []


def test_malformed_formats_are_refused(tmp_path):
    bad = tmp_path / "formats.yaml"
    bad.write_text("- id: x\n  entity_type: X_KEY\n  reason: x\n  kind: token\n  keywords: [x_]\n  value: 'x_[a-z'\n"
                   "  source: https://example.org\n")
    with pytest.raises(SecretFormatError, match="not a regex"):
        format_classes(bad)
    bad.write_text("- id: x\n  entity_type: X_KEY\n  reason: x\n  kind: token\n  keywords: [x_]\n  value: 'x_[a-z]{8}'\n")
    with pytest.raises(SecretFormatError, match="missing"):
        format_classes(bad)


def test_named_pattern_needs_the_word_at_an_identifier_start():
    import regex
    pattern = regex.compile(named_pattern(["etsy"], "[a-z0-9]{24}"))
    assert pattern.search('etsy_key = "a1b2c3d4e5f6a7b8c9d0e1f2"')
    assert not pattern.search('betsy_key = "a1b2c3d4e5f6a7b8c9d0e1f2"')
    assert not pattern.search('BETSY_KEY = "a1b2c3d4e5f6a7b8c9d0e1f2"')
    # a camelCase hump starts a part too
    assert pattern.search('const prodEtsyKey = "a1b2c3d4e5f6a7b8c9d0e1f2"')
    assert not pattern.search('const prodetsyKey = "a1b2c3d4e5f6a7b8c9d0e1f2"')


@pytest.mark.parametrize("entity_type, name, digits", [("DISCORD_CLIENT_ID", "discord_client_id", 18),
                                                       ("ASANA_CLIENT_ID", "asana_client_id", 16)])
def test_random_all_digit_ids_pass_the_entropy_gate(spans, entity_type, name, digits):
    # Digits carry at most 3.3 bits each: the gate for mixed alphabets (2.8) turned away a
    # quarter to a third of random ids of these lengths.
    rng = random.Random(f"digits {entity_type}")
    values = [str(rng.randrange(1, 10)) + "".join(rng.choice("0123456789") for _ in range(digits - 1))
              for _ in range(200)]
    found = sum(spans(f'{name} = "{value}"', entity_type) == [value] for value in values)
    assert found >= 0.96 * len(values)
    assert spans(f'{name} = "{"1" * (digits - 2)}23"', entity_type) == []      # too few distinct digits
