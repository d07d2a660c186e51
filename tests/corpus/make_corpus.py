"""Write tests/corpus/corpus.jsonl: realistic labelled pastes, deterministic (seeded).

Run once and commit the output: ``.venv/bin/python tests/corpus/make_corpus.py``.
Each line: {"id", "kind", "text", "spans": [{"start","end","entity_type","data_class"}]}.
A span marks a value a detector should report; items with no spans are negatives (hard
ones on purpose: hashes, UUIDs, versions, decades, log tokens, placeholders, example keys).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent))
import negatives  # noqa: E402
import secret_pastes  # noqa: E402
import values as v  # noqa: E402

SEED = 20261126
OUT = Path(__file__).resolve().parent / "corpus.jsonl"
ORG_DOMAIN = "acme-corp"   # the org config in tests/corpus/org_detectors.yaml declares it


class Paste:
    """Text assembled piece by piece; labelled pieces record their spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict] = []

    def add(self, text: str) -> Paste:
        self.parts.append(text)
        self.length += len(text)
        return self

    def val(self, text: str, entity_type: str, data_class: str) -> Paste:
        self.spans.append({"start": self.length, "end": self.length + len(text),
                           "entity_type": entity_type, "data_class": data_class})
        return self.add(text)

    def region(self, entity_type: str, data_class: str, start: int) -> None:
        """Label everything added since ``start`` (a whole dump) as one span."""
        self.spans.append({"start": start, "end": self.length, "entity_type": entity_type, "data_class": data_class})

    @property
    def text(self) -> str:
        return "".join(self.parts)


def person(p: Paste, name: str) -> Paste:
    return p.val(name, "PERSON", "pii")


TITLES = {"Mr", "Mrs", "Ms", "Miss", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof."}


def first_name(name: str) -> str:
    return next(word for word in name.split() if word not in TITLES)


def email_of(fake: Faker, name: str, rng: random.Random) -> str:
    first, last = name.lower().split()[0], name.lower().split()[-1]
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}"])
    return f"{local}@{rng.choice([fake.free_email_domain(), fake.domain_name()])}".replace("'", "")


def support_ticket(fake, rng):
    p, name = Paste(), fake.name()
    p.add(f"Ticket #{rng.randint(10000, 99999)} - {rng.choice(['refund request', 'login issue', 'address change', 'billing dispute'])}\n\n")
    p.add("Customer: ")
    person(p, name)
    p.add("\nEmail: ").val(email_of(fake, name, rng), "EMAIL_ADDRESS", "pii")
    p.add("\nPhone: ").val(v.phone(rng), "PHONE_NUMBER", "pii")
    choice = rng.random()
    if choice < 0.3:
        p.add("\nCard on file: ").val(v.card(rng), "CREDIT_CARD", "payment")
        p.add(f" exp {rng.randint(1, 12):02d}/{rng.randint(26, 31)}")
    elif choice < 0.5:
        p.add("\nRefund to IBAN ").val(v.iban(rng), "IBAN_CODE", "payment")
    elif choice < 0.65:
        p.add("\nSSN: ").val(v.ssn(rng), "US_SSN", "pii")
    elif choice < 0.75:
        p.add("\nNational Insurance number: ").val(v.nino(rng), "UK_NINO", "pii")
    p.add(f"\n\n{v.paragraph(rng, 3)}\n")
    p.add("Can you draft a polite reply to ")
    person(p, first_name(name))
    p.add("? Keep it short.")
    return p


def chat_prose(fake, rng):
    p, a, b = Paste(), fake.name(), fake.name()
    p.add(rng.choice(["Summarize this thread for me:\n\n", "Rewrite this more formally:\n\n", ""]))
    person(p, a)
    p.add(f" wrote: {v.sentence(rng)} I spoke with ")
    person(p, b)
    p.add(f" yesterday and {rng.choice(['she', 'he', 'they'])} asked us to call back on ")
    p.val(v.phone(rng), "PHONE_NUMBER", "pii")
    p.add(f". {v.paragraph(rng, 2)} Please cc ").val(email_of(fake, b, rng), "EMAIL_ADDRESS", "pii")
    p.add(".\n")
    return p


def hr_note(fake, rng):
    p, name = Paste(), fake.name()
    p.add("Help me write a performance review. Employee: ")
    person(p, name)
    p.add(f", {fake.job()}, reports to ")
    person(p, fake.name())
    p.add(f". Employee ID {rng.randint(10000, 99999)}. SSN ").val(v.ssn(rng), "US_SSN", "pii")
    p.add(f" (for the payroll form). Started {fake.date_between(v.HIRED_FROM, v.YEAR_START.date()).isoformat()}.\n{v.paragraph(rng, 4)}\n")
    return p


def customer_rows(fake, rng, n):
    rows = []
    for i in range(n):
        name = fake.name()
        rows.append({"id": 1000 + i * rng.randint(1, 7), "name": name, "email": email_of(fake, name, rng),
                     "phone": v.phone(rng), "city": fake.city(), "plan": rng.choice(["free", "pro", "team"])})
    return rows


def _row_values(p: Paste, row: dict, sep: str, quote: str = "") -> None:
    q = quote
    p.add(f"{row['id']}{sep}")
    p.add(q)
    person(p, row["name"])
    p.add(f"{q}{sep}{q}").val(row["email"], "EMAIL_ADDRESS", "pii")
    p.add(f"{q}{sep}{q}").val(row["phone"], "PHONE_NUMBER", "pii")
    p.add(f"{q}{sep}{q}{row['city']}{q}{sep}{q}{row['plan']}{q}")


def csv_export(fake, rng, bulk=True):
    n = rng.randint(8, 40) if bulk else rng.randint(1, 2)
    sep = rng.choice([",", "\t"]) if bulk else ","
    p = Paste().add(rng.choice(["Why are there duplicates in this export?\n", "Clean up this data:\n", ""]))
    start = p.length
    p.add(sep.join(["customer_id", "full_name", "email", "phone", "city", "plan"]) + "\n")
    for row in customer_rows(fake, rng, n):
        _row_values(p, row, sep)
        p.add("\n")
    if bulk:
        p.region("BULK_RECORDS", "production", start)
    return p


def sql_insert(fake, rng):
    p = Paste().add("-- pg_dump excerpt\n")
    start = p.length
    p.add("INSERT INTO customers (id, name, email, phone, city, plan) VALUES\n")
    rows = customer_rows(fake, rng, rng.randint(6, 30))
    for i, row in enumerate(rows):
        p.add("  (")
        _row_values(p, row, ", ", "'")
        p.add(")" + (",\n" if i < len(rows) - 1 else ";\n"))
    p.region("BULK_RECORDS", "production", start)
    return p


def json_export(fake, rng):
    p = Paste().add(rng.choice(["Turn this into a table:\n", "Find users on the pro plan:\n"]))
    lines = rng.random() < 0.5
    rows = customer_rows(fake, rng, rng.randint(6, 25))
    start = p.length
    p.add("" if lines else "[\n")
    for i, row in enumerate(rows):
        p.add(("" if lines else "  ") + f'{{"id": {row["id"]}, "name": "')
        person(p, row["name"])
        p.add('", "email": "').val(row["email"], "EMAIL_ADDRESS", "pii")
        p.add('", "phone": "').val(row["phone"], "PHONE_NUMBER", "pii")
        p.add(f'", "city": "{row["city"]}", "plan": "{row["plan"]}"}}')
        p.add("\n" if lines else (",\n" if i < len(rows) - 1 else "\n]\n"))
    p.region("BULK_RECORDS", "production", start)
    return p


def access_log(fake, rng):
    p = Paste().add("Why does this client get 403s?\n")
    for _ in range(rng.randint(4, 10)):
        p.val(v.ipv4(rng, private=False), "IP_ADDRESS", "pii")
        p.add(f' - - [{fake.date_time_between(v.YEAR_START, v.YEAR_END).strftime("%d/%b/%Y:%H:%M:%S")} +0000] '
              f'"{rng.choice(["GET", "POST"])} /{fake.uri_path()} HTTP/1.1" {rng.choice([200, 403, 404, 500])} '
              f'{rng.randint(120, 90000)} "-" "{fake.user_agent()}"\n')
    return p


def app_log_with_email(fake, rng):
    p = Paste()
    for _ in range(rng.randint(3, 8)):
        ts = fake.date_time_between(v.YEAR_START, v.YEAR_END).isoformat(timespec="milliseconds")
        if rng.random() < 0.4:
            name = fake.name()
            p.add(f"{ts}Z INFO  auth.login user=").val(email_of(fake, name, rng), "EMAIL_ADDRESS", "pii")
            p.add(" ip=").val(v.ipv4(rng, private=False), "IP_ADDRESS", "pii")
            p.add(f" session={v.rand(rng, 32, '0123456789abcdef')}\n")
        else:
            p.add(f"{ts}Z {rng.choice(['INFO ', 'WARN ', 'DEBUG'])} {negatives.log_message(rng)}\n")
    return p


def stack_trace_with_db(fake, rng):
    p = Paste().add("Getting this in prod, any idea?\n\n")
    p.add("Traceback (most recent call last):\n  File \"/srv/app/db.py\", line 42, in connect\n"
          "    engine = create_engine(settings.DATABASE_URL)\n")
    scheme = rng.choice(["postgresql", "mysql", "mongodb+srv", "redis"])
    host = rng.choice([f"db-prod-{rng.randint(1, 9)}.{ORG_DOMAIN}.internal", f"{fake.domain_word()}.cluster-{v.rand(rng, 12).lower()}.eu-west-1.rds.amazonaws.com"])
    user, password = fake.user_name(), v.password(rng)
    p.add("sqlalchemy.exc.OperationalError: could not connect to server: ")
    start = p.length   # the URL is production data, the password in it a secret
    p.add(f"{scheme}://{user}:").val(password, "DB_PASSWORD", "secret")
    p.add(f"@{host}:{rng.choice([5432, 3306, 27017, 6379])}/{fake.word()}")
    p.region("DB_CONNECTION_URL", "production", start)
    p.add("\n  Is the server running and accepting TCP/IP connections?\n")
    return p


def internal_urls(fake, rng):
    p = Paste().add(rng.choice(["Explain this runbook step:\n", "What does this alert mean?\n", ""]))
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.35:
            url = f"https://{rng.choice(['grafana', 'jenkins', 'kibana', 'vault', 'admin'])}.{ORG_DOMAIN}.{rng.choice(['corp', 'internal', 'lan'])}/{fake.uri_path()}"
        elif kind < 0.6:
            url = f"http://{v.ipv4(rng, private=True)}:{rng.choice([8080, 9090, 3000, 8443])}/{fake.uri_path()}"
        elif kind < 0.8:
            url = f"https://{fake.domain_word()}.intra.{ORG_DOMAIN}.com/{fake.uri_path()}"
        else:
            url = f"{rng.choice(['api', 'billing', 'queue'])}-{rng.randint(1, 9)}.prod.{ORG_DOMAIN}.local"
        p.add(f"{v.sentence(rng)} See ").val(url, "INTERNAL_URL", "production")
        p.add(f" {v.sentence(rng)}\n")
    return p


def org_ids(fake, rng):
    p = Paste().add(f"{v.sentence(rng)} Customer account ")
    p.val(f"ACME-{rng.randint(100000, 999999)}", "ORG_CUSTOMER_ID", "production")
    p.add(" was charged twice. Related contract: ").val(f"CTR-{rng.randint(2019, 2026)}-{rng.randint(1000, 9999)}", "ORG_CONTRACT_ID", "production")
    p.add(f". {v.paragraph(rng, 2)}\n")
    return p


def env_file(fake, rng):
    p = Paste().add("Why does my app not pick up these settings?\n\n")
    p.add(f"NODE_ENV=production\nPORT={rng.choice([3000, 8080])}\nLOG_LEVEL=info\n")
    for label in rng.sample(sorted(v.SECRET_MAKERS), rng.randint(1, 3)):
        if label == "PRIVATE_KEY":
            continue
        var = {"AWS_ACCESS_KEY": "AWS_ACCESS_KEY_ID", "GITHUB_TOKEN": "GITHUB_TOKEN", "OPENAI_API_KEY": "OPENAI_API_KEY",
               "ANTHROPIC_API_KEY": "ANTHROPIC_API_KEY", "SLACK_TOKEN": "SLACK_BOT_TOKEN", "STRIPE_SECRET_KEY": "STRIPE_SECRET_KEY",
               "GOOGLE_API_KEY": "GOOGLE_API_KEY", "JWT": "SESSION_TOKEN"}[label]
        p.add(f"{var}=").val(v.SECRET_MAKERS[label](rng), label, "secret")
        p.add("\n")
    p.add(f"FEATURE_FLAGS=search,new-billing\nCACHE_TTL={rng.randint(60, 3600)}\n")
    return p


def code_with_secret(fake, rng):
    p = Paste().add(rng.choice(["This script fails with 401, why?\n\n", "Refactor this:\n\n"]))
    label = rng.choice(["AWS_ACCESS_KEY", "GITHUB_TOKEN", "OPENAI_API_KEY", "STRIPE_SECRET_KEY", "SLACK_TOKEN", "GOOGLE_API_KEY"])
    p.add("import requests\n\n")
    p.add("API_KEY = \"").val(v.SECRET_MAKERS[label](rng), label, "secret")
    p.add("\"\n\ndef fetch(path):\n    r = requests.get(f\"https://api.example.org/{path}\", headers={\"Authorization\": f\"Bearer {API_KEY}\"}, timeout=10)\n"
          "    r.raise_for_status()\n    return r.json()\n")
    return p


def key_paste(fake, rng):
    p = Paste().add("ssh says 'invalid format' for this key, what's wrong?\n\n")
    p.val(v.private_key(rng), "PRIVATE_KEY", "secret")
    p.add("\n")
    return p


def config_password(fake, rng):
    p = Paste().add("# config/database.yml\nproduction:\n  adapter: postgresql\n")
    p.add("  host: ")
    p.val(f"db-{rng.randint(1, 5)}.{ORG_DOMAIN}.internal", "INTERNAL_URL", "production")
    p.add(f"\n  username: {fake.user_name()}\n  password: ").val(v.password(rng), "PASSWORD", "secret")
    p.add("\n  pool: 10\n")
    return p


def payment_note(fake, rng):
    p, name = Paste(), fake.name()
    p.add(rng.choice(["Reconcile these payments:\n", "Why was this charge declined?\n", "Draft a chargeback response.\n"]))
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.6:
            p.add(f"{fake.date_between(v.YEAR_START.date(), v.YEAR_END.date()).isoformat()} {rng.randint(5, 900)}.{rng.randint(0, 99):02d} USD card ")
            p.val(v.card(rng), "CREDIT_CARD", "payment")
        else:
            p.add(f"{fake.date_between(v.YEAR_START.date(), v.YEAR_END.date()).isoformat()} SEPA transfer {rng.randint(50, 9000)} EUR from ")
            p.val(v.iban(rng), "IBAN_CODE", "payment")
        p.add(f" ref {v.rand(rng, 10, '0123456789ABCDEF')}\n")
    p.add("Account holder: ")
    person(p, name)
    p.add(".\n")
    return p


def shipping_address(fake, rng):
    p, name = Paste(), fake.name()
    p.add(rng.choice(["Draft a reply confirming the new delivery address:\n\n", "Update order "
                      f"#{rng.randint(10000, 99999)}: ship to ", "Format this address for a label: "]))
    if rng.random() < 0.5:
        person(p, name)
        p.add(", ")
    p.val(v.street_address(fake, rng), "STREET_ADDRESS", "pii")
    p.add(rng.choice([".\n", "\nThanks!\n", f" (leave with the neighbour at No. {rng.randint(1, 40)})\n"]))
    return p


BIRTH_LABELS = ["DOB: {}", "Date of birth: {}", "date of birth {}", "born on {}", "Geboren am {}", "D.O.B. {}", "Birthdate: {}"]


def birth_date_note(fake, rng):
    p, name = Paste(), fake.name()
    p.add("Fill in this insurance form for me.\nName: ")
    person(p, name)
    before, after = rng.choice(BIRTH_LABELS).split("{}")
    p.add("\n" + before).val(v.written_date(rng, v.birth_date(rng)), "DATE_OF_BIRTH", "pii")
    p.add(after + f"\nPolicy start {fake.date_between(v.YEAR_START.date(), v.YEAR_END.date()).isoformat()}, renewal yearly.\n")
    return p


def patients_csv(fake, rng):
    p = Paste().add("Sort these by age:\n")
    start = p.length
    p.add("patient_id,full_name,dob,city\n")
    for _row in range(rng.randint(6, 15)):
        p.add(f"{rng.randint(10000, 99999)},")
        person(p, fake.name())
        p.add(",").val(v.birth_date(rng).isoformat(), "DATE_OF_BIRTH", "pii")
        p.add(f",{fake.city()}\n")
    p.region("BULK_RECORDS", "production", start)
    return p


PHONE_WORDS = {"DE": "Telefon", "FR": "Tél", "NL": "Telefoon", "ES": "Teléfono", "IT": "Cellulare", "IN": "Mobile",
               "AU": "Phone", "CA": "Tel", "BR": "Celular"}


def intl_contact(fake, rng):
    p, region = Paste(), rng.choice(v.INTL_REGIONS)
    international = rng.random() < 0.5
    p.add(rng.choice(["Translate this signature:\n\n", "Add this contact to the CRM:\n\n"]))
    person(p, fake.name())
    p.add(f"\n{fake.company()}\n{PHONE_WORDS[region]}: ")
    p.val(v.intl_phone(rng, region, international), "PHONE_NUMBER", "pii")
    p.add("\n")
    return p


POSITIVE = [(shipping_address, 24), (birth_date_note, 20), (patients_csv, 6), (intl_contact, 27),(payment_note, 30),
    (support_ticket, 40), (chat_prose, 30), (hr_note, 15), (csv_export, 24), (sql_insert, 12),
    (json_export, 12), (access_log, 14), (app_log_with_email, 16), (stack_trace_with_db, 14),
    (internal_urls, 18), (org_ids, 10), (env_file, 24), (code_with_secret, 20), (key_paste, 8),
    (config_password, 10), (lambda f, r: csv_export(f, r, bulk=False), 12),
]


def main() -> None:
    rng = random.Random(SEED)
    fake = Faker(["en_US", "en_GB"])
    Faker.seed(SEED)
    items = []
    for maker, count in POSITIVE:
        for _ in range(count):
            p = maker(fake, rng)
            items.append({"kind": getattr(maker, "__name__", "csv_small").replace("<lambda>", "csv_small"),
                          "text": p.text, "spans": p.spans})
    for maker, count in negatives.NEGATIVE:
        for _ in range(count):
            items.append({"kind": maker.__name__, "text": maker(fake, rng), "spans": []})
    secret_positives, secret_negatives = secret_pastes.secret_items(rng)
    items += secret_positives + secret_negatives
    rng.shuffle(items)
    with OUT.open("w", encoding="utf-8") as out:
        for i, item in enumerate(items):
            for span in item["spans"]:
                assert item["text"][span["start"]:span["end"]].strip(), span
            out.write(json.dumps({"id": f"c{i:04d}", **item}, ensure_ascii=False) + "\n")
    negative_share = sum(1 for item in items if not item["spans"]) / len(items)
    print(f"wrote {len(items)} items ({negative_share:.0%} negatives) to {OUT}")


if __name__ == "__main__":
    main()
