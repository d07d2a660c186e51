"""Collector settings as one dataclass, plus the two secrets it creates on first start."""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from shadowmap import contract
from shadowmap.collector.oidc_settings import OidcSettings
from shadowmap.collector.private_files import read_or_create
from shadowmap.collector.store.url import DatabaseUrl, DatabaseUrlError, SqliteUrl, parse_database_url

log = logging.getLogger(__name__)

MIB = 1024 * 1024
ADMIN_PASSWORD_ENV = "SHADOWMAP_ADMIN_PASSWORD"


@dataclass
class CollectorConfig:
    # The SQLite file; with a PostgreSQL db_url, only the folder the node's own files
    # (enroll secret, record key, reports) default into.
    db_path: Path = Path("var/collector.db")
    # A postgresql:// URL (shadowmap.collector.store.url; never with a password): None, SQLite at db_path.
    db_url: str | None = None
    db_password_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    # HTTPS of its own (both set), or trusted reverse proxies (CIDRs): shadowmap.collector.transport
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_proxies: tuple[str, ...] = ()
    # The key that seals the org key and webhook/sink secrets in the database (shadowmap.collector.secret_box);
    # None: $SHADOWMAP_SECRETS_KEY_FILE, else `secrets.key` next to the database.
    secrets_key_file: Path | None = None
    # None means `enroll_secret` next to the database.
    enroll_secret_file: Path | None = None
    # What `shadowmap bridge publish` wrote (served under /extension/); None: `extension` next to the database.
    extension_dir: Path | None = None
    admin_username: str = "admin"
    # None means: generate one on first run and print it once.
    admin_password: str | None = field(default_factory=lambda: os.environ.get(ADMIN_PASSWORD_ENV) or None)
    max_body_bytes: int = 5 * MIB  # on the wire (compressed or not)
    max_decompressed_bytes: int = 20 * MIB
    max_events_per_batch: int = 1000
    session_ttl_seconds: int = 12 * 3600
    # console sign-in throttling (shadowmap.collector.console.login_throttle), per username and per address
    login_lockout_after: int = 10       # failures in a row
    login_lockout_seconds: int = 15 * 60
    login_backoff_max_seconds: float = 30.0
    # enrollments per client address (shadowmap.collector.api.ratelimit): an MDM rollout behind one
    # NAT enrolls many laptops from one address, so a big rollout raises these
    enroll_per_second: float = 2.0
    enroll_burst: int = 120
    # console single sign-on (OpenID Connect; shadowmap.collector.oidc_settings): None, passwords only
    oidc: OidcSettings | None = None
    read_workers: int = 4
    # PostgreSQL: how long an upload waits for its ingest-lane pass before it is acked with its
    # alerts and record entries queued (shadowmap.collector.api.ingest_lane); None waits for the pass
    lane_ack_wait_seconds: float | None = 0.25
    # a device silent for longer than this raises "Protection disabled" (shadowmap.collector.device_watch;
    # the same default as shadowmap.collector.alerts.protection.DEFAULT_DARK_AFTER): laptops sleep
    # over weekends, the agent beats every 5 minutes
    device_dark_after_days: float = 3.0
    default_policy: dict = field(default_factory=contract.default_policy)

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        if self.db_password_file is not None:
            self.db_password_file = Path(self.db_password_file)
        if self.enroll_secret_file is not None:
            self.enroll_secret_file = Path(self.enroll_secret_file)
        if not self.device_dark_after_days > 0:
            raise ConfigError(f"device_dark_after_days must be more than 0, not {self.device_dark_after_days}")

    @property
    def database(self) -> DatabaseUrl:
        """The database the store opens (ConfigError when db_url names none we can)."""
        try:
            if self.db_url:
                return parse_database_url(self.db_url, self.db_password_file)
            return SqliteUrl(self.db_path)
        except DatabaseUrlError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def secrets_key_path(self) -> Path:
        from shadowmap.collector.secret_box import key_path
        return key_path(self.db_path.parent, self.secrets_key_file)

    @property
    def extension_path(self) -> Path:
        return Path(self.extension_dir) if self.extension_dir is not None else self.db_path.parent / "extension"

    @property
    def enroll_secret_path(self) -> Path:
        return self.enroll_secret_file or self.db_path.parent / "enroll_secret"


class ConfigError(RuntimeError):
    """The collector cannot start with these settings; the message says why."""


def load_or_create_enroll_secret(path: Path) -> str:
    """Read the enroll secret, creating it (mode 0600, created atomically) when missing."""
    def make() -> bytes:
        return (secrets.token_urlsafe(32) + "\n").encode()
    secret = read_or_create(path, make, "enroll secret").decode("utf-8").strip()
    if len(secret) < 16:
        raise ConfigError(f"enroll secret in {path} is shorter than 16 characters")
    return secret
