"""Secret pastes for the corpus: every declared secret type, twice, in the places people
paste secrets from (.env files, CI YAML, code, logs, shell history, JSON config), and a
near miss of every type (documented example, placeholder, wrong prefix, bad checksum,
hash) in the same surroundings as a negative.

The secret lines come from the family tables in tests/detectors/secrets (their CASES):
values in each vendor's format that pass the format's own checks (CRC32 checksums, JWT
headers, base64 ids), written where a person would write them. Those tables are seeded,
so the corpus stays reproducible; a change to a table changes the corpus, and
test_corpus.py's reproducibility test says so (rerun make_corpus.py).
"""
from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path

TABLES = Path(__file__).resolve().parents[1] / "detectors" / "secrets"
# The project's convention (docs/detectors.md, "Production labels"): a database URL or an
# Azure connection string that holds a secret is production data too, so the text around
# the secret (its whitespace-delimited token) is labelled as that resource.
PRODUCTION_RESOURCES = {"DB_PASSWORD": ("DB_CONNECTION_URL", "://"),
                        "AZURE_STORAGE_KEY": ("AZURE_CONNECTION_STRING", "AccountName=")}


def family_cases() -> list[tuple[str, str, list[str]]]:
    """(entity_type, text, expected values) of every family table, in file order."""
    cases = []
    for path in sorted(TABLES.glob("test_*.py")):
        if "\nCASES = [" not in path.read_text(encoding="utf-8"):
            continue
        spec = importlib.util.spec_from_file_location(f"_corpus_table_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


# A near miss of one type can still be a secret of another: a too-short value assigned
# to GITHUB_TOKEN is still a credential in a config. A negative must be unambiguous: the
# issue's own non-secrets (documented examples, obvious placeholders), or a value the
# text does not assign to a secret-like name (a hash, a wrong prefix, an id).
_PLACEHOLDER = re.compile(r"example|xxxx|your|placeholder|changeme|<[^>]*>|\*\*\*|\.\.\.|\$\{", re.IGNORECASE)
_SECRET_NAME = re.compile(r"(?i:token|secret|key|passw|pwd|auth|credential)[\w.\-]*[\"']?\s*[=:]")


def unambiguous_negative(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None or _SECRET_NAME.search(text) is None


def _timestamp(rng: random.Random) -> str:
    return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


# Surroundings: (kind, text before the secret's line, text after it).
def _env(rng):
    return ("env_file", f"Why does my app not pick these up?\n\nNODE_ENV=production\nPORT={rng.choice([3000, 8080])}\n",
            f"\nLOG_LEVEL=info\nCACHE_TTL={rng.randint(60, 3600)}\n")


def _ci_yaml(rng):
    return ("ci_yaml", "The deploy job fails, what is wrong?\n\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n"
                       "    steps:\n      - uses: actions/checkout@v4\n      - run: |\n",
            f"\n          ./scripts/deploy.sh --region {rng.choice(['eu-west-1', 'us-east-1'])}\n")


def _code(rng):
    return ("code", "Refactor this into a class:\n\nimport os\nimport requests\n\n",
            "\n\ndef fetch(path):\n    return requests.get(f\"https://api.example.org/{path}\", timeout=10).json()\n")


def _log(rng):
    return ("app_log", f"{_timestamp(rng)} INFO  worker starting pid={rng.randint(1000, 99999)}\n{_timestamp(rng)} DEBUG config: ",
            f"\n{_timestamp(rng)} WARN  retrying request attempt=2\n")


def _shell(rng):
    return ("shell_history", f"What did I run yesterday?\n\n  {rng.randint(300, 900)}  cd ~/src/api\n  {rng.randint(300, 900)}  ",
            f"\n  {rng.randint(300, 900)}  npm run deploy\n")


def _json_config(rng):
    return ("json_config", "Validate this config:\n\n{\n  \"service\": \"billing\",\n  \"note\": \"",
            "\",\n  \"retries\": 3\n}\n")


SURROUNDINGS = (_env, _ci_yaml, _code, _log, _shell, _json_config)


def _item(rng: random.Random, entity_type: str, text: str, values: list[str], surround) -> dict:
    kind, before, after = surround(rng)
    # Every occurrence of a secret value is the secret, whether a table lists it once or not.
    spans = []
    for value in dict.fromkeys(values):
        at = text.find(value)
        while at >= 0:
            spans.append({"start": len(before) + at, "end": len(before) + at + len(value),
                          "entity_type": entity_type, "data_class": "secret"})
            at = text.find(value, at + len(value))
    resource, marker = PRODUCTION_RESOURCES.get(entity_type, (None, None))
    for span in list(spans) if resource else ():
        whole = before + text + after
        start = max(whole.rfind(c, 0, span["start"]) for c in " \n\t") + 1
        ends = [at for at in (whole.find(c, span["end"]) for c in " \n\t") if at >= 0]
        end = min(ends, default=len(whole))
        if marker in whole[start:end]:
            spans.append({"start": start, "end": end, "entity_type": resource, "data_class": "production"})
    spans.sort(key=lambda span: (span["start"], -span["end"]))
    return {"kind": f"secret_{kind}", "text": before + text + after, "spans": spans}


def secret_items(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """(positives, negatives): two pastes of every secret type (its first two true cases,
    or its one true case in two surroundings) and one unambiguous near miss of every type
    that has one."""
    true_cases: dict[str, list[tuple[str, list[str]]]] = {}
    near_misses: dict[str, list[str]] = {}
    for entity_type, text, expected in family_cases():
        if expected:
            true_cases.setdefault(entity_type, []).append((text, expected))
        elif unambiguous_negative(text):
            near_misses.setdefault(entity_type, []).append(text)
    positives, negatives = [], []
    for entity_type in sorted(true_cases):
        cases = true_cases[entity_type]
        chosen = (cases * 2)[:2]
        for (text, values), surround in zip(chosen, rng.sample(SURROUNDINGS, 2), strict=True):
            positives.append(_item(rng, entity_type, text, values, surround))
    for entity_type in sorted(near_misses):
        text = rng.choice(near_misses[entity_type])
        negatives.append(_item(rng, entity_type, text, [], rng.choice(SURROUNDINGS)))
    return positives, negatives
