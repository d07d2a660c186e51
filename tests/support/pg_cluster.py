"""A throwaway PostgreSQL cluster for tests and benches: `initdb` into a temp folder, a Unix
socket in that folder and a random loopback port, trust auth on loopback only, stopped
(`pg_ctl stop -m fast`) on exit even when the test failed. Never the system service.

PostgreSQL refuses to run as root, so when we are root the server binaries run as the
`postgres` user (or `nobody`) through `runuser`, with the folder chowned to that user.
The server is a daemon of its own (pg_ctl): a process killed before its atexit handlers
run (SIGKILL, a bare SIGTERM) leaves it running; stop such a leftover with
`runuser -u postgres -- pg_ctl stop -m fast -D /tmp/shadowmap-pg-<...>/data`.

Pytest fixtures (import them into a conftest: ``from support.pg_cluster import pg_cluster, pg_url``):
  pg_cluster  session-scoped running PgCluster; skips only when the binaries are absent
  pg_url      a fresh, empty database on that cluster for one test (dropped afterwards)
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

# Small buffers for tests (several engineers share two cores); callers may override any of these.
TEST_SETTINGS: dict[str, str] = {
    "fsync": "on",
    "synchronous_commit": "on",
    "shared_buffers": "32MB",
    "max_connections": "200",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] '",
}


def find_bindir() -> Path | None:
    """The folder of initdb/pg_ctl/postgres: `pg_config --bindir` when it holds initdb,
    else Debian's newest /usr/lib/postgresql/<version>/bin; None when absent."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                         check=True).stdout.strip())
            if (bindir / "initdb").exists():
                return bindir
        except (OSError, subprocess.CalledProcessError):
            pass
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not candidates:
        return None
    newest = max(candidates, key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(newest).parent


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> str | None:
    """The user the server binaries run as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PgCluster:
    """One PostgreSQL server in its own temp folder (data/ + the socket + server.log)."""

    def __init__(self, settings: dict[str, str] | None = None, bindir: Path | None = None,
                 superuser: str = "postgres"):
        found = bindir or find_bindir()
        if found is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb) not found")
        self.bindir = found
        self.settings = {**TEST_SETTINGS, **(settings or {})}
        self.superuser = superuser
        self.run_as = _server_user()
        # Under /tmp (world-traversable), not pytest's 0700 tmp folders: the server user must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="shadowmap-pg-"))
        self.data_dir = self.dir / "data"
        self.log_path = self.dir / "server.log"
        self.port = 0
        self.running = False
        self._initialised = False
        if self.run_as:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, user=self.run_as)
        atexit.register(self.stop)

    # -- running the server binaries -------------------------------------------------------
    def _run(self, tool: str, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        argv = [str(self.bindir / tool), *args]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        done = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            log = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}\nserver log:\n{log}")
        return done

    def _initdb(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", self.superuser, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        # Loopback TCP and the folder's socket only: trust, never a wider address.
        (self.data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n")
        if self.run_as:
            shutil.chown(self.data_dir / "pg_hba.conf", user=self.run_as)
        self._initialised = True

    def _write_config(self) -> None:
        lines = {**self.settings, "listen_addresses": "'127.0.0.1'", "port": str(self.port),
                 "unix_socket_directories": f"'{self.dir}'"}
        auto = self.data_dir / "postgresql.auto.conf"
        auto.write_text("".join(f"{key} = {value}\n" for key, value in lines.items()))
        if self.run_as:
            shutil.chown(auto, user=self.run_as)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> PgCluster:
        if self.running:
            return self
        if not self._initialised:
            self._initdb()
        for attempt in range(3):      # the free port may be taken between probe and bind
            self.port = self.port if self.port and attempt == 0 else free_loopback_port()
            self._write_config()
            done = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                             "-l", str(self.log_path), check=False)
            if done.returncode == 0:
                self.running = True
                return self
        log = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}\n{log}")

    def stop(self) -> None:
        """Fast shutdown (active transactions rolled back); safe to call more than once."""
        if self.running:
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir), check=False)
            self.running = False

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, the same port comes back."""
        self._run("pg_ctl", "restart", "-w", "-t", "60", "-m", "fast", "-D", str(self.data_dir),
                  "-l", str(self.log_path))
        self.running = True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    # -- addresses and databases ---------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def socket_url(self, dbname: str = "postgres") -> str:
        """The same database over the folder's Unix socket."""
        return f"postgresql://{self.superuser}@/{dbname}?host={self.dir}&port={self.port}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE ``name`` (optionally from ``template``); returns its URL."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        with self._admin() as conn:
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


def unique_database_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# -- pytest fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries (initdb) not found: `make postgresql` installs Debian's package")
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = unique_database_name()
    url = pg_cluster.create_database(name)
    try:
        yield url
    finally:
        if pg_cluster.running:
            pg_cluster.drop_database(name)
