"""Pastes with nothing to report, chosen to trip naive detectors: hashes, UUIDs, version
strings, decades, durations, log tokens, base64, hex, metrics tables, example keys and
placeholders, public URLs, technical prose, code without secrets."""
from __future__ import annotations

import base64
import random
import string
import uuid

import values as v

HEX = "0123456789abcdef"
COMMIT_SUBJECTS = ["bump deps", "handle empty payloads", "retry on 503", "cache tokens per tenant",
                   "drop python 3.8", "fix flaky upload test"]


def log_message(rng: random.Random) -> str:
    return rng.choice([
        f"http.server request_id={uuid.UUID(int=rng.getrandbits(128))} method=GET path=/api/v2/items status=200 dur_ms={rng.randint(2, 900)}",
        f"worker.queue job={v.rand(rng, 8, HEX)} attempt={rng.randint(1, 5)} state=retrying backoff={rng.randint(1, 60)}s",
        f"cache.redis hit_ratio=0.{rng.randint(10, 99)} keys={rng.randint(1000, 99999)} evicted={rng.randint(0, 500)}",
        f"kube.probe pod=api-{v.rand(rng, 10, HEX)}-{v.rand(rng, 5, string.ascii_lowercase)} ready=true restarts={rng.randint(0, 3)}",
        f"gc.pause young={rng.randint(1, 40)}ms old={rng.randint(40, 400)}ms heap={rng.randint(100, 2000)}MB",
        f"deploy.sha={v.rand(rng, 40, HEX)} image=registry.local/api@sha256:{v.rand(rng, 64, HEX)}",
        f"tls.handshake cipher=TLS_AES_128_GCM_SHA256 version=1.3 resumed={rng.choice(['true', 'false'])}",
    ])


def build_log(fake, rng) -> str:
    lines = []
    for _ in range(rng.randint(6, 20)):
        ts = fake.date_time_between(v.YEAR_START, v.YEAR_END).isoformat(timespec="seconds")
        lines.append(f"{ts} {rng.choice(['INFO', 'WARN', 'DEBUG'])} {log_message(rng)}")
    return "Why is this job slow?\n" + "\n".join(lines) + "\n"


def git_log(fake, rng) -> str:
    out = []
    for _ in range(rng.randint(3, 8)):
        out.append(f"commit {v.rand(rng, 40, HEX)}\nDate:   {fake.date_time_between(v.YEAR_START, v.YEAR_END).strftime('%a %b %d %H:%M:%S %Y')} +0000\n\n"
                   f"    {rng.choice(['fix', 'feat', 'chore', 'refactor'])}: {rng.choice(COMMIT_SUBJECTS)}\n")
    return "Write release notes from this:\n\n" + "\n".join(out)


def versions(fake, rng) -> str:
    pkgs = ["requests", "numpy", "django", "react", "typescript", "spacy", "torch", "kubernetes", "openssl"]
    lines = [f"{p}=={rng.randint(0, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}" for p in rng.sample(pkgs, 5)]
    lines.append(f"# built with gcc {rng.randint(9, 14)}.{rng.randint(1, 3)}.{rng.randint(0, 1)} on kernel 6.{rng.randint(1, 12)}.{rng.randint(0, 80)}-{rng.randint(1, 40)}-generic")
    lines.append(f"# firmware 2.{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(100, 999)}")
    return "Which of these pins are outdated?\n" + "\n".join(lines) + "\n"


def uuids_and_hashes(fake, rng) -> str:
    rows = [f"{uuid.UUID(int=rng.getrandbits(128))},{v.rand(rng, 32, HEX)},{v.rand(rng, 64, HEX)},{rng.randint(100, 99999)}"
            for _ in range(rng.randint(5, 15))]
    return "object_id,md5,sha256,size_bytes\n" + "\n".join(rows) + "\n"


def decades_prose(fake, rng) -> str:
    return (f"In the {rng.choice(['60s', '70s', '80s', '90s'])} most teams shipped twice a year; by the "
            f"{rng.choice(['2000s', 'early 2010s', 'late 90s'])} that became monthly. {v.paragraph(rng, 3)} "
            f"Over the next {rng.randint(2, 9)} quarters we want p99 under {rng.randint(20, 300)} ms and "
            f"{rng.randint(2, 5)}x the throughput. Version {rng.randint(1, 4)}.{rng.randint(0, 9)} shipped on the {rng.randint(1, 28)}th.")


def metrics_csv(fake, rng) -> str:
    rows = ["date,region,requests,errors,p50_ms,p99_ms,cost_usd"]
    for _ in range(rng.randint(10, 30)):
        rows.append(f"{fake.date_between(v.YEAR_START.date(), v.YEAR_END.date()).isoformat()},{rng.choice(['eu-west-1', 'us-east-1', 'ap-south-1'])},"
                    f"{rng.randint(10**5, 10**7)},{rng.randint(0, 5000)},{rng.randint(5, 90)},{rng.randint(100, 2000)},"
                    f"{rng.randint(100, 99999)}.{rng.randint(0, 99):02d}")
    return "Plot error rate by region:\n" + "\n".join(rows) + "\n"


def base64_blob(fake, rng) -> str:
    blob = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(rng.randint(300, 1500)))).decode()
    wrapped = "\n".join(blob[i:i + 76] for i in range(0, len(blob), 76))
    return f"What file type is this?\n\n{wrapped}\n"


def hex_dump(fake, rng) -> str:
    lines = []
    for off in range(0, rng.randint(8, 24) * 16, 16):
        data = " ".join(v.rand(rng, 2, HEX) for _ in range(16))
        lines.append(f"{off:08x}  {data}")
    return "xxd output of the corrupt file:\n" + "\n".join(lines) + "\n"


def clean_code(fake, rng) -> str:
    name = fake.word()
    return (f"def parse_{name}(raw: bytes) -> dict:\n"
            f"    \"\"\"Decode a {name} frame (v{rng.randint(1, 3)}.{rng.randint(0, 9)}).\"\"\"\n"
            f"    header, body = raw[:{rng.randint(4, 16)}], raw[{rng.randint(4, 16)}:]\n"
            f"    if header[0] != 0x{v.rand(rng, 2, HEX)}:\n"
            f"        raise ValueError(\"bad magic\")\n"
            f"    timeout = {rng.randint(1, 60)}  # seconds\n"
            f"    return {{\"len\": len(body), \"crc\": zlib.crc32(body) & 0xffffffff, \"retries\": {rng.randint(1, 9)}}}\n")


def placeholders(fake, rng) -> str:
    return rng.choice([
        "# .env.example\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "OPENAI_API_KEY=<your-key>\nANTHROPIC_API_KEY=sk-ant-xxxxxxxxxxxxxxxx\nSTRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx\n",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@localhost:5432/app\nREDIS_URL=redis://localhost:6379/0\n",
        "password: changeme\nadmin_password: <set-me>\napi_token: ${API_TOKEN}\n",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nSLACK_BOT_TOKEN=xoxb-your-token-here\n",
        "export DB_URL=mysql://root:****@127.0.0.1:3306/test\n# replace **** with your local password\n",
    ]) + f"# {v.sentence(rng)}\n"


def tech_prose(fake, rng) -> str:
    return rng.choice([
        "Explain the difference between optimistic and pessimistic locking in PostgreSQL, with an example using SELECT ... FOR UPDATE and a version column.",
        "Our Kubernetes pods restart every 40 minutes with OOMKilled. The JVM has -Xmx2g and the container limit is 2Gi. What should the heap be?",
        "Write a regex that matches ISO 8601 dates like 2024-05-01T10:00:00Z but not 2024-13-01.",
        "Public APIs should be versioned. Is /v1/ in the path better than an Accept header? List the trade-offs.",
        "Convert this bash loop to Python: for f in *.log; do gzip -9 \"$f\"; done",
        "The build takes 14 minutes on CI and 3 on my laptop. The cache key is the hash of package-lock.json. Why would it miss?",
        "Summarize the CAP theorem in three sentences for a product manager.",
    ]) + " " + rng.choice(["", v.sentence(rng), f"We run {rng.randint(3, 40)} nodes."])


def public_urls(fake, rng) -> str:
    urls = ["https://github.com/psf/requests/issues/6512", "https://docs.python.org/3/library/asyncio.html",
            "https://en.wikipedia.org/wiki/Luhn_algorithm", "https://stackoverflow.com/questions/4760215",
            "https://pypi.org/project/presidio-analyzer/", "http://localhost:8000/admin/", "https://example.com/a?b=1"]
    return "Read these and summarize:\n" + "\n".join(rng.sample(urls, 3)) + "\n"


def numbers_prose(fake, rng) -> str:
    return (f"Order {rng.randint(10**6, 10**7)} shipped in {rng.randint(2, 9)} boxes; tracking 1Z{v.rand(rng, 16, string.ascii_uppercase + string.digits)}. "
            f"Invoice total {rng.randint(100, 9999)}.{rng.randint(0, 99):02d} EUR, due in {rng.randint(14, 60)} days. "
            f"Build {rng.randint(1000, 9999)} of release {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)} passed {rng.randint(100, 999)} of {rng.randint(1000, 1200)} tests.")


def json_config(fake, rng) -> str:
    return ("{\n  \"name\": \"" + fake.word() + "-service\",\n  \"version\": \"" + f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
            + "\",\n  \"replicas\": " + str(rng.randint(1, 12)) + ",\n  \"listen\": \"0.0.0.0:8080\",\n  \"timeout_ms\": "
            + str(rng.randint(100, 30000)) + ",\n  \"checksum\": \"sha256-" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(32))).decode()
            + "\"\n}\n")


def payment_near_misses(fake, rng) -> str:
    good = v.card(rng).replace(" ", "").replace("-", "")
    bad_card = good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)        # fails Luhn
    good_iban = v.iban(rng).replace(" ", "")
    bad_iban = good_iban[:2] + f"{(int(good_iban[2:4]) + rng.randint(1, 50)) % 97 + 2:02d}" + good_iban[4:]  # bad check digits
    return (f"Test data for the validator (all invalid on purpose): card {bad_card}, IBAN {bad_iban}, "
            f"order {rng.randint(10**15, 10**16)}, batch {rng.randint(10**12, 10**13)}.\n")


def dates_without_birth(fake, rng) -> str:
    """Dates that are not anyone's birth date, and words near them that are not context."""
    d = lambda: fake.date_between(v.YEAR_START.date(), v.YEAR_END.date())  # noqa: E731
    return (f"Invoice date {d().isoformat()}, due {d().strftime('%d/%m/%Y')}. The service was born out of a hackathon "
            f"and released on {d().strftime('%B')} {d().day}, {d().year}. Next review {d().strftime('%d.%m.%Y')}.\n")


def rooms_and_roads(fake, rng) -> str:
    """Numbers beside place-like words that are not street addresses."""
    return (f"Meet in Room {rng.randint(100, 599)}, Building {rng.randint(1, 9)}. Traffic on Highway {rng.randint(1, 101)} "
            f"is slow; take exit {rng.randint(1, 40)}. Release v{rng.randint(1, 9)}.{rng.randint(0, 20)} ships the new "
            f"Street View layer and {rng.randint(2, 12)} new map styles. Flat {rng.randint(1, 30)} rate pricing applies.\n"
            f"    for step in range({rng.randint(2, 9)}): way = path[step]\n")


def numbers_like_phones(fake, rng) -> str:
    """Digit groups in the shape of national numbers, with no word saying phone."""
    return (f"Batch {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} processed; checksum bytes "
            f"{' '.join(f'{rng.randint(0, 99):02d}' for _ in range(5))}; tracking {rng.randint(100, 999)} {rng.randint(100, 999)} "
            f"{rng.randint(100, 999)}.\n")


NEGATIVE = [(dates_without_birth, 16), (rooms_and_roads, 14), (numbers_like_phones, 12),(payment_near_misses, 16),
    (build_log, 34), (git_log, 22), (versions, 22), (uuids_and_hashes, 20), (decades_prose, 22),
    (metrics_csv, 18), (base64_blob, 12), (hex_dump, 12), (clean_code, 30), (placeholders, 34),
    (tech_prose, 30), (public_urls, 12), (numbers_prose, 22), (json_config, 14),
]
