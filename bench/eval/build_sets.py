"""Rebuild the independent evaluation sets in bench/eval/*.jsonl.

The answers come from others, not from the team:
  scanners.jsonl   secret scanners' published cases, of two origins (each sample's "origin"):
                   "generated": positives drawn from gitleaks' rule formats (each rule's token
                   shape, set in the syntaxes gitleaks' own test harness uses), so they can only
                   show what gitleaks' own regexes describe;
                   "literal": the test cases the scanners publish with their rules, as written:
                   gitleaks' true / false positives (published_cases.py), detect-secrets'
                   (Yelp/detect-secrets tests/plugins/*_test.py) and TruffleHog's pattern tests
                   (pkg/detectors/*/*_test.go), transcribed into sources/*_cases.jsonl with the
                   repository, path and commit each was read from;
  pii.jsonl        Presidio's evaluation templates (microsoft/presidio-research) filled by Faker
                   in several locales;
  providers.jsonl  token formats as the providers document them (GitHub, Stripe, AWS), sampled
                   in the same syntaxes, and the providers' own documented example keys as
                   negatives;
  pastes.jsonl     hand-written realistic pastes (bench/eval/pastes.py).

Every sample has an id, its source (repo and path, or "hand-written"; "commit" where the
transcription recorded it), its text, its labels
(class, entity type and, where known, the span) and its split: "tune" or "report", fixed by
a hash of the id, so a sample never changes halves between runs. Deterministic: the same
files come out of every run.

    .venv/bin/python bench/eval/build_sets.py
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The sibling modules (the regex sampler, the published cases, the pastes) are imported
# from this folder where they are needed.
sys.path.insert(0, str(HERE))

GITLEAKS = "gitleaks/gitleaks config/gitleaks.toml"
PRESIDIO_TEMPLATES = "microsoft/presidio-research presidio_evaluator/data_generator/raw_data/templates.txt"
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_CA", "en_AU", "sv_SE")

# The syntaxes gitleaks' test harness writes a sample secret in ({i}: the identifier, {s}:
# the secret): config files, code in several languages, CSV, logstash and Makefiles.
SYNTAXES = (
    '{i}Token="{s}"', '{i}Token = "{s}"', "{i}Token={s}", "{i}Token = {s}",
    '{{\n    "{i}_token": "{s}"\n}}', '\\{{\n    \\"{i}_token\\": \\"{s}\\"\n\\}}',
    "<{i}Token>{s}</{i}Token>", "<{i}Token>\n    {s}\n</{i}Token>",
    "{i}_token: {s}", "{i}_token: '{s}'", '{i}_token: "{s}"', "{i}_token: |\n  {s}", "{i}_token: >\n  {s}",
    'string {i}Token = "{s}";', 'var {i}Token string = "{s}"', '{i}Token := "{s}"', "{i}Token := `{s}`",
    'String {i}Token = "{s}";', 'var {i}Token = "{s}"', '${i}Token .= "{s}"', "{i}Token = '{s}'",
    '{i}Token = "{s}"', "{i}Token,{s},", '  "{i}Token" => "{s}"',
    '{I}_TOKEN = "{s}"', '{I}_TOKEN := "{s}"', '{I}_TOKEN ::= "{s}"', '{I}_TOKEN :::= "{s}"', '{I}_TOKEN ?= "{s}"',
    '{I}_TOKEN += "{s}"',
    # The issue's own misses: Java system properties, XML attributes.
    'System.setProperty("{I}_TOKEN", "{s}");', '<add key="{i}Token" value="{s}" />',
)
SAMPLES_PER_RULE = 3


def split_of(sample_id: str) -> str:
    """"tune" or "report": the first byte of the id's SHA-256, so halves never move."""
    return "tune" if hashlib.sha256(sample_id.encode()).digest()[0] % 2 == 0 else "report"


def sample(sample_id: str, source: str, text: str, labels: list[dict], **extra) -> dict:
    return {"id": sample_id, "source": source, "split": split_of(sample_id), "text": text, "labels": labels, **extra}


def _gitleaks_rules() -> Iterator[tuple[str, str, list[str], str]]:
    for line in (HERE / "sources" / "gitleaks_formats.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rule_id, kind, keywords, value = line.split("\t")
            yield rule_id, kind, keywords.split(","), value


def _identifier(rule_id: str, kind: str, keywords: list[str]) -> str:
    """The name a sample assigns to: the vendor keyword for a named rule, the vendor (the
    rule id's first word) for a self-identifying token."""
    word = keywords[0] if kind == "kw" else rule_id.split("-")[0]
    return re.sub(r"[^A-Za-z0-9_]", "_", word)


def scanner_samples() -> list[dict]:
    from generate import sample_of
    from published_cases import FALSE_POSITIVES, TRUE_POSITIVES

    out = []
    rng = random.Random(15)
    for n, (rule_id, kind, keywords, value_regex) in enumerate(_gitleaks_rules()):
        ident = _identifier(rule_id, kind, keywords)
        for k in range(SAMPLES_PER_RULE):
            secret = sample_of(value_regex, rng)
            syntax = SYNTAXES[(n * SAMPLES_PER_RULE + k) % len(SYNTAXES)]
            text = syntax.format(i=ident, I=ident.upper(), s=secret)
            start = text.index(secret)
            out.append(sample(f"gl-{rule_id}-{k}", GITLEAKS, text, [
                {"class": "secret", "type": rule_id, "start": start, "end": start + len(secret)}], origin="generated"))
    # gitleaks' literal cases were transcribed without recording the commit they were read at.
    for n, (source, rule_id, text) in enumerate(TRUE_POSITIVES):
        out.append(sample(f"gl-tp-{rule_id}-{n}", source, text, [{"class": "secret", "type": rule_id}],
                          origin="literal", scanner="gitleaks"))
    for n, (source, rule_id, text) in enumerate(FALSE_POSITIVES):
        out.append(sample(f"gl-fp-{rule_id}-{n}", source, text, [], origin="literal", scanner="gitleaks"))
    out += published_case_samples("detect_secrets", "detect-secrets", "ds", "plugin")
    out += published_case_samples("trufflehog", "trufflehog", "th", "detector")
    return out


def published_case_samples(file_stem: str, scanner: str, prefix: str, rule_field: str) -> list[dict]:
    """The literal cases in sources/<file_stem>_cases.jsonl: one sample each, positive (a
    secret of the scanner's rule, "<scanner>/<rule>") where the scanner's test says its rule
    must report it, negative where it says the rule must stay quiet. Ids count within a rule."""
    out: list[dict] = []
    counts: Counter[str] = Counter()
    for line in (HERE / "sources" / f"{file_stem}_cases.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        rule = case[rule_field]
        slug = re.sub(r"[^a-z0-9]+", "-", rule.lower()).strip("-")
        sample_id = f"{prefix}-{slug}-{counts[slug]}"
        counts[slug] += 1
        labels = [{"class": "secret", "type": f"{scanner}/{rule}"}] if case["secret"] else []
        out.append(sample(sample_id, f"{case['repo']} {case['path']}", case["text"], labels, commit=case["commit"],
                          origin="literal", scanner=scanner))
    return out


# Token formats as providers document them: (name, source, identifier, value regex).
PROVIDER_FORMATS = (
    ("github-pat", "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available",
     "github", r"ghp_[A-Za-z0-9]{36}"),
    ("github-oauth", "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available",
     "github", r"gho_[A-Za-z0-9]{36}"),
    ("github-user-to-server", "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available",
     "github", r"ghu_[A-Za-z0-9]{36}"),
    ("github-server-to-server", "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available",
     "github", r"ghs_[A-Za-z0-9]{36}"),
    ("github-refresh", "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available",
     "github", r"ghr_[A-Za-z0-9]{36}"),
    ("stripe-secret-live", "https://docs.stripe.com/api/authentication", "stripe", r"sk_live_[A-Za-z0-9]{24,99}"),
    ("stripe-secret-test", "https://docs.stripe.com/api/authentication", "stripe", r"sk_test_[A-Za-z0-9]{24,99}"),
    ("stripe-restricted-live", "https://gitlab.com/gitlab-org/gitlab/-/issues/458019 (Stripe's key scheme, as Stripe gave it)",
     "stripe", r"rk_live_[A-Za-z0-9]{24,99}"),
    ("aws-access-key-id", "https://docs.aws.amazon.com (IAM unique identifiers: AKIA access keys, ASIA temporary keys)",
     "aws_access_key_id", r"(?:AKIA|ASIA)[A-Z2-7]{16}"),
    ("aws-secret-access-key", "https://docs.aws.amazon.com (AccessKey: a secret access key of 40 characters)",
     "aws_secret_access_key", r"[A-Za-z0-9/+]{40}"),
)
# The providers' own documented examples: published as examples, not credentials.
PROVIDER_EXAMPLES = (
    ("aws-access-key-id", "https://docs.aws.amazon.com (the documented example key)", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
    ("aws-secret-access-key", "https://docs.aws.amazon.com (the documented example key)",
     "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
)
PROVIDER_SAMPLES = 8


def provider_samples() -> list[dict]:
    from generate import sample_of

    out = []
    rng = random.Random("providers")
    for n, (name, source, ident, value_regex) in enumerate(PROVIDER_FORMATS):
        for k in range(PROVIDER_SAMPLES):
            secret = sample_of(value_regex, rng)
            syntax = SYNTAXES[(n * PROVIDER_SAMPLES + k * 5) % len(SYNTAXES)]
            text = syntax.format(i=ident, I=ident.upper(), s=secret)
            start = text.index(secret)
            out.append(sample(f"prov-{name}-{k}", source, text, [
                {"class": "secret", "type": name, "start": start, "end": start + len(secret)}]))
    for n, (name, source, text) in enumerate(PROVIDER_EXAMPLES):
        out.append(sample(f"prov-example-{name}-{n}", source, text, []))
    return out


# Presidio's template placeholders: which are personal or payment data (and under which
# entity type the eval reports them); the others (COUNTRY, CITY, ORGANIZATION ...) are not.
PLACEHOLDER_LABELS = {
    "PERSON": ("pii", "PERSON"), "FIRST_NAME": ("pii", "PERSON"), "LAST_NAME": ("pii", "PERSON"),
    "EMAIL_ADDRESS": ("pii", "EMAIL_ADDRESS"), "PHONE_NUMBER": ("pii", "PHONE_NUMBER"),
    "ADDRESS": ("pii", "ADDRESS"), "IP_ADDRESS": ("pii", "IP_ADDRESS"), "US_SSN": ("pii", "US_SSN"),
    "CREDIT_CARD_NUMBER": ("payment", "CREDIT_CARD"), "IBAN": ("payment", "IBAN"),
}
# A [BIRTHDAY] is a date of birth where the template says so; elsewhere it is a plain date.
_BIRTH_CONTEXT = re.compile(r"date of birth|born on", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\[([A-Z_]+)\]")
_DATE_FORMATS = {"en_US": ("%m/%d/%Y", "%B %d, %Y"), "en_CA": ("%Y-%m-%d", "%B %d, %Y"),
                 "en_GB": ("%d/%m/%Y", "%d %B %Y"), "en_AU": ("%d/%m/%Y", "%d %B %Y")}
# Faker draws a date of birth relative to today, so the set would change every day: ages are
# counted from the day the set was first built instead.
BIRTH_REFERENCE = date(2026, 12, 6)
_NATIONALITIES = ("British", "French", "German", "American", "Italian", "Spanish", "Dutch", "Swedish")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _date_of_birth(fake, minimum_age: int, maximum_age: int) -> date:
    """Faker's date_of_birth (the same draw from the same generator), aged from
    BIRTH_REFERENCE rather than from today."""
    start, end = _years_before(BIRTH_REFERENCE, maximum_age + 1), _years_before(BIRTH_REFERENCE, minimum_age)
    born = fake.date_time_ad(start_datetime=start, end_datetime=end).date()
    return born if born != start else born + timedelta(days=1)


def _fill(placeholder: str, fake, us_fake, locale: str, rng: random.Random) -> str:
    if placeholder == "ADDRESS":
        address = fake.address()
        # Faker writes multi-line addresses; pastes keep the lines about a third of the time.
        return address if rng.random() < 0.33 else address.replace("\n", ", ")
    if placeholder == "BIRTHDAY":
        formats = _DATE_FORMATS.get(locale, ("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d"))
        return _date_of_birth(fake, 18, 90).strftime(rng.choice(formats))
    makers = {
        "PERSON": fake.name, "FIRST_NAME": fake.first_name, "LAST_NAME": fake.last_name, "EMAIL_ADDRESS": fake.email,
        "PHONE_NUMBER": fake.phone_number, "IP_ADDRESS": fake.ipv4_public, "US_SSN": us_fake.ssn,
        "CREDIT_CARD_NUMBER": fake.credit_card_number, "IBAN": fake.iban, "COUNTRY": fake.country, "CITY": fake.city,
        "STREET": fake.street_name, "URL": fake.url, "ORGANIZATION": fake.company,
        "TITLE": lambda: rng.choice(("Mr.", "Ms.", "Dr.", "Mrs.")), "NATIONALITY": lambda: rng.choice(_NATIONALITIES),
    }
    return str(makers[placeholder]())


def pii_samples() -> list[dict]:
    from faker import Faker

    templates = [t for t in (HERE / "sources" / "presidio_templates.txt").read_text().splitlines()
                 if t.strip() and not t.startswith("#")]
    out = []
    us_fake = Faker("en_US")
    us_fake.seed_instance(1515)
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(sum(map(ord, locale)))
        rng = random.Random(locale)
        for n, template in enumerate(templates):
            text, labels, position = "", [], 0
            for match in _PLACEHOLDER.finditer(template):
                text += template[position:match.start()]
                value = _fill(match.group(1), fake, us_fake, locale, rng)
                label = PLACEHOLDER_LABELS.get(match.group(1))
                if match.group(1) == "BIRTHDAY" and _BIRTH_CONTEXT.search(template):
                    label = ("pii", "DATE_OF_BIRTH")
                if label:
                    labels.append({"class": label[0], "type": label[1], "start": len(text), "end": len(text) + len(value)})
                text += value
                position = match.end()
            text += template[position:]
            out.append(sample(f"pii-{locale}-{n:03d}", f"{PRESIDIO_TEMPLATES} (Faker {locale})", text, labels))
    return out


_MARK = re.compile(r"«(?P<type>[A-Z_]+)\|(?P<value>.*?)»", re.DOTALL)
PASTE_TYPES = {
    "SECRET": "secret", "PRODUCTION": "production", "PERSON": "pii", "EMAIL_ADDRESS": "pii", "PHONE_NUMBER": "pii",
    "ADDRESS": "pii", "IP_ADDRESS": "pii", "US_SSN": "pii", "DATE_OF_BIRTH": "pii", "CREDIT_CARD": "payment",
    "IBAN": "payment", "ACH": "payment",
}


def unmark(marked: str) -> tuple[str, list[dict]]:
    """A paste written with «TYPE|value» marks: the plain text and the labels' spans."""
    text, labels, position = "", [], 0
    for match in _MARK.finditer(marked):
        text += marked[position:match.start()]
        value = match.group("value")
        labels.append({"class": PASTE_TYPES[match.group("type")], "type": match.group("type"),
                       "start": len(text), "end": len(text) + len(value)})
        text += value
        position = match.end()
    return text + marked[position:], labels


def paste_samples() -> list[dict]:
    from pastes import PASTES

    out = []
    for name, marked in PASTES:
        text, labels = unmark(marked)
        out.append(sample(f"paste-{name}", "hand-written", text, labels))
    return out


def write(name: str, samples: list[dict]) -> None:
    ids = [s["id"] for s in samples]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"{name}: duplicate sample ids")
    with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
        for item in samples:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    report = sum(1 for s in samples if s["split"] == "report")
    negatives = sum(1 for s in samples if not s["labels"])
    print(f"{name}: {len(samples)} samples ({report} report, {len(samples) - report} tune; {negatives} negatives)")
    origins = Counter((s.get("origin"), s.get("scanner")) for s in samples if s.get("origin"))
    for (origin, scanner), count in sorted(origins.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        print(f"  {origin}{' ' + scanner if scanner else ''}: {count}")


def main() -> None:
    # Some Faker locales pick from sets, whose order follows the string hash seed: the sets
    # are only repeatable with a fixed one.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    write("scanners", scanner_samples())
    write("providers", provider_samples())
    write("pii", pii_samples())
    write("pastes", paste_samples())


if __name__ == "__main__":
    main()
