"""Database connection URLs that carry a password: production data access in one line, and
the password in it, a secret (the engine keeps both, the URL around its password)."""
from __future__ import annotations

from collections.abc import Iterator

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.assignments import plausible_secret_value

# Template variables and masks stand for a password; they are not one.
_PLACEHOLDER = re.compile(
    r"^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|\{[A-Za-z_][A-Za-z0-9_]*\}|<[^>]*>|%s|\*+|x+|X+|\.\.\.)$"
)


# A documentation password on this machine or a documentation domain: an .env.example or a
# tutorial, not access to anyone's data. (A real host keeps it: the URL still maps the network.)
_STAND_IN_PASSWORD = re.compile(r"^(?:my|your)?(?:pass|passwd|password|pwd|secret|changeme|example)$", re.IGNORECASE)
_LOCAL_OR_EXAMPLE_HOST = re.compile(
    r"^(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1\]|(?:[\w-]+\.)*example(?:\.(?:com|org|net))?)(?::\d+)?$",
    re.IGNORECASE)


class DbConnectionUrlRecognizer(SecretRecognizer):
    entity_type = "DB_CONNECTION_URL"
    data_class = "production"
    reason = "Database connection URL with credentials"
    patterns = (
        (
            r"(?<![A-Za-z0-9+.\-])(?:postgres|postgresql|mysql|mariadb|mongodb|mongodb\+srv|redis|rediss"
            r"|mssql|sqlserver|oracle|cockroachdb|clickhouse|amqp|amqps)(?:\+[a-z0-9]+)?"
            r"://(?P<user>[^\s:/@'\"<>]*):(?P<password>[^\s@/'\"<>]+)@(?P<host>[^\s/?#'\"<>,;]+)"
            r"(?:[/?][^\s'\"<>]*)?",
            0.9,
        ),
    )
    keywords = ("://",)
    reach_before = 64   # the scheme, with a driver: "postgresql+psycopg2"
    flags = re.MULTILINE | re.IGNORECASE

    def credentialed(self, text: str, near: list[int] | None = None) -> Iterator[tuple[re.Match, float]]:
        """The URLs whose password is not a template, a mask, or a documentation password on
        a local or documentation host."""
        for match, score in self.matches(text, near):
            password = match.group("password")
            if _PLACEHOLDER.match(password) or (
                    _STAND_IN_PASSWORD.match(password) and _LOCAL_OR_EXAMPLE_HOST.match(match.group("host"))):
                continue
            yield match, score

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        # Checking the password needs the match groups, so filter here rather than in is_valid.
        found = []
        for match, score in self.credentialed(text, near):
            value = match.group(0).rstrip(".,;:)]}")
            found.append((match.start(), match.start() + len(value), score))
        return found


class DbPasswordRecognizer(DbConnectionUrlRecognizer):
    """The password alone, when it could be one: a stand-in word (``mypassword`` on a real
    host keeps the URL, which still maps the network) is no secret."""
    entity_type = "DB_PASSWORD"
    data_class = "secret"
    reason = "Password in a database URL"

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = []
        for match, score in self.credentialed(text, near):
            password = match.group("password")
            if _STAND_IN_PASSWORD.match(password) or not plausible_secret_value(
                    password, min_length=4, min_entropy=1.5, min_classes=1):
                continue
            found.append((match.start("password"), match.end("password"), score))
        return found
