"""Where the collector's database is: the one parser of `--db`.

`--db` takes a SQLite file (`var/collector.db` or `sqlite:///abs/path.db`, `sqlite:rel.db`)
or a PostgreSQL URL (`postgresql://user@host:port/db`, `?host=/socket/dir` for a Unix
socket). A password never comes from the URL: a command line is what `ps` shows every user
of the machine, so a URL holding one is refused. The password comes from a file
(`--db-password-file`, or a libpq password file named by PGPASSFILE, which libpq reads by
itself) or the environment (SHADOWMAP_DB_PASSWORD, or libpq's PGPASSWORD)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

PASSWORD_ENV = "SHADOWMAP_DB_PASSWORD"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class DatabaseUrlError(ValueError):
    """`--db` names no database we can open; the message says why."""


@dataclass(frozen=True)
class PostgresUrl:
    """A PostgreSQL database: the URL as given (never with a password) and where its
    password comes from."""

    url: str
    password_file: Path | None = None

    @property
    def backend(self) -> str:
        return "postgresql"

    def conninfo(self) -> str:
        """The URL libpq connects with: the password (file, then environment) passed as a
        keyword, never written into the URL text."""
        password = self.password()
        if password is None:
            return self.url
        from psycopg.conninfo import make_conninfo  # here: SQLite-only commands never load the driver
        return make_conninfo(self.url, password=password)

    def password(self) -> str | None:
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise DatabaseUrlError(f"cannot read the database password file {self.password_file}: {exc}") from None
        return os.environ.get(PASSWORD_ENV) or None  # else libpq's PGPASSWORD / PGPASSFILE, read by libpq itself

    def display(self) -> str:
        return self.url

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class SqliteUrl:
    path: Path

    @property
    def backend(self) -> str:
        return "sqlite"

    def display(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


DatabaseUrl = SqliteUrl | PostgresUrl


def parse_database_url(value: str | Path, password_file: Path | None = None) -> DatabaseUrl:
    """`--db`'s value as a SqliteUrl or a PostgresUrl (DatabaseUrlError when it is neither,
    or when it carries a password)."""
    text = str(value).strip()
    if not text:
        raise DatabaseUrlError("--db is empty")
    scheme = text.split(":", 1)[0].lower() if "://" in text or text.lower().startswith("sqlite:") else ""
    if scheme in POSTGRES_SCHEMES:
        return _postgres(text, password_file)
    if password_file is not None:
        raise DatabaseUrlError("--db-password-file is for a PostgreSQL --db; a SQLite file has no password")
    if scheme == "sqlite":
        rest = text.split(":", 1)[1]
        if rest.startswith("//"):  # sqlite:///abs/path, as file:/// URLs (sqlite:////abs/path too)
            rest = rest[2:]
            path = "/" + rest.lstrip("/") if rest.strip("/") else ""
        else:  # sqlite:relative/path
            path = rest
        if not path:
            raise DatabaseUrlError(f"{text!r}: a sqlite URL needs a file path (sqlite:///var/lib/collector.db)")
        return SqliteUrl(Path(unquote(path)))
    if scheme:
        raise DatabaseUrlError(f"{text!r}: unknown database scheme {scheme!r} (sqlite:// or postgresql://)")
    return SqliteUrl(Path(text))


def _postgres(text: str, password_file: Path | None) -> PostgresUrl:
    parts = urlsplit(text)
    if parts.password is not None or any(key.lower() == "password" for key, _ in parse_qsl(parts.query)):
        raise DatabaseUrlError(
            "the --db URL contains a password, which every user of this machine can read on the command line; "
            f"put it in a file (--db-password-file) or the environment ({PASSWORD_ENV} or PGPASSWORD)")
    if not parts.path.strip("/"):
        raise DatabaseUrlError(f"{text!r}: name the database (postgresql://user@host:port/dbname)")
    try:
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        raise DatabaseUrlError(f"{text!r}: the port is not a number") from None
    return PostgresUrl(text, password_file)
