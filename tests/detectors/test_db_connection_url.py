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


def test_db_url_is_production_class_and_wins_over_overlaps(engine):
    text = "postgres://admin:S3cretPw@10.1.2.3:5432/customers"
    findings = engine.scan(text)
    assert [(f.entity_type, f.data_class) for f in findings] == [("DB_CONNECTION_URL", "production")]
    assert (findings[0].start, findings[0].end) == (0, len(text))
