"""DB_CONNECTION_URL (production data class): connection URLs that carry a password."""
import pytest


@pytest.mark.parametrize("url", [
    "postgres://user:pass@host/db",
    "postgresql://app:S3cr3t!x@db.internal:5432/prod?sslmode=require",
    "postgresql+psycopg2://etl:p4ssw0rd@warehouse.acme.local/analytics",
    "mysql://root:hunter2@10.0.0.5:3306/shop",
    "mongodb+srv://svc:pA55w0rd@cluster0.ab1cd.mongodb.net/app?retryWrites=true",
    "redis://:r3d1spass@cache.internal:6379/0",
    "rediss://default:Zx9kLq2@eu1-redis.example.com:6380",
    "postgres://app:password@db.acme.internal:5432/app",   # a stand-in password, but a real host
    "postgres://app:S3cretPw@localhost:5432/app",          # a real password, even on this machine
])
def test_db_url_with_credentials(spans, url):
    assert spans(f"DATABASE_URL={url}\n", "DB_CONNECTION_URL") == [url]


def test_trailing_punctuation_is_not_part_of_the_url(spans):
    assert spans("connect with postgres://user:pass@host/db.", "DB_CONNECTION_URL") == ["postgres://user:pass@host/db"]


@pytest.mark.parametrize("text", [
    "postgres://db.internal:5432/prod",                    # no credentials
    "postgres://user@db.internal/prod",                    # user but no password
    "https://user:pass@example.com/path",                  # not a database URL
    "postgres://user:${DB_PASSWORD}@db.internal/prod",     # template variable
    "postgres://user:$PGPASSWORD@db.internal/prod",
    "mysql://root:<password>@localhost/shop",              # placeholder
    "mysql://root:****@localhost/shop",                    # mask
    "mongodb://{{user}}:{{password}}@host/db",
    "postgres://user:password@localhost:5432/app",         # an .env.example's stand-in, on this machine
    "mysql://root:secret@127.0.0.1:3306/test",
    "redis://default:changeme@cache.example.com:6379",     # a documentation domain
    "release v2.14.3",
])
def test_not_a_credentialed_db_url(spans, text):
    assert spans(text, "DB_CONNECTION_URL") == []


def test_db_url_is_production_and_its_password_a_secret_nested_in_it(engine):
    # both classes' policies see their finding; the IP and the "email" inside the URL do not count
    text = "postgres://admin:S3cretPw@10.1.2.3:5432/customers"
    findings = engine.scan(text)
    assert [(f.entity_type, f.data_class, text[f.start:f.end]) for f in findings] == [
        ("DB_CONNECTION_URL", "production", text), ("DB_PASSWORD", "secret", "S3cretPw")]


def test_only_its_own_password_nests_in_a_db_url():
    from shadowmap.detectors.engine import _resolve_overlaps
    from shadowmap.detectors.scan_result import Finding

    def finding(entity_type, start, end, data_class):
        return Finding(entity_type, start, end, 0.9, data_class, "reason", "critical")

    url = finding("DB_CONNECTION_URL", 0, 40, "production")
    own = finding("DB_PASSWORD", 17, 25, "secret")
    assert _resolve_overlaps([url, own]) == [url, own]
    # another secret over the URL (or a password reaching past it) still wins over the URL
    assert _resolve_overlaps([url, finding("SECRET_ASSIGNMENT", 30, 50, "secret")])[0].entity_type == "SECRET_ASSIGNMENT"
    assert _resolve_overlaps([url, finding("DB_PASSWORD", 35, 45, "secret")]) == [finding("DB_PASSWORD", 35, 45, "secret")]
