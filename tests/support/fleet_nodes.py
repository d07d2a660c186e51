"""Several real `shadowmap collector serve` processes on one database, each on its own free
loopback port, sharing one enroll secret: the stateless nodes behind a load balancer."""
from __future__ import annotations

import secrets
import shutil
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shadowmap.collector.config import CollectorConfig
from shadowmap.collector.record import keys
from support.processes import Proc, repo_env, shadowmap_argv

START_TIMEOUT = 60.0


@dataclass
class Node:
    name: str
    url: str
    proc: Proc

    @property
    def alive(self) -> bool:
        return self.proc.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, in-flight requests cut mid-way."""
        self.proc.popen.send_signal(signal.SIGKILL)
        self.proc.popen.wait(timeout=10)


class CollectorFleet:
    """``count`` collector nodes on ``db`` (a SQLite path or a postgresql:// URL)."""

    def __init__(self, workdir: Path, db: str, count: int, admin_password: str,
                 extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        self.db = db
        self.count = count
        self.env = repo_env({"SHADOWMAP_ADMIN_PASSWORD": admin_password, **(extra_env or {})})
        self.secret_file = workdir / "enroll_secret"
        self.nodes: list[Node] = []

    def _start_node(self, index: int) -> Node:
        log_path = self.workdir / f"node{index}.log"
        proc = Proc(shadowmap_argv("collector", "serve", "--db", self.db, "--host", "127.0.0.1", "--port", "0",
                                   "--enroll-secret-file", str(self.secret_file)), log_path, self.env)
        try:
            url = proc.wait_for_line("listening on ", START_TIMEOUT).split()[-1]
        except BaseException:
            proc.stop()
            raise
        return Node(f"node{index}", url, proc)

    def start(self) -> CollectorFleet:
        # one secret for the fleet, written before any node starts so none races to create it
        if not self.secret_file.exists():
            self.secret_file.write_text(secrets.token_urlsafe(32) + "\n")
            self.secret_file.chmod(0o600)
        # the first node alone (it migrates a fresh database), the others together
        self.nodes.append(self._start_node(0))
        with ThreadPoolExecutor(max_workers=max(1, self.count - 1)) as pool:
            self.nodes.extend(pool.map(self._start_node, range(1, self.count)))
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.proc.stop()

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def logs(self, chars: int = 2000) -> str:
        return "\n".join(f"--- {node.name} ---\n{node.proc.log_path.read_text(errors='replace')[-chars:]}"
                         for node in self.nodes)


@contextmanager
def collector_fleet(workdir: Path, db: str, count: int, admin_password: str,
                    extra_env: dict[str, str] | None = None) -> Iterator[CollectorFleet]:
    fleet = CollectorFleet(workdir, db, count, admin_password, extra_env)
    try:
        yield fleet.start()
    finally:
        fleet.stop()


def two_node_configs(tmp_path: Path, pg_url: str) -> list[CollectorConfig]:
    """Two in-process collector configs on one database, sharing the enroll secret, the secrets
    key and the record signing key (as nodes behind a load balancer do: docs/scale.md) and
    each with files of its own otherwise."""
    secret = tmp_path / "enroll_secret"
    secret.write_text("a shared enroll secret for both nodes\n")
    record_key = tmp_path / keys.KEY_FILE_NAME
    keys.load_or_create_key(record_key)
    configs = []
    for node in ("a", "b"):
        (tmp_path / node).mkdir()
        shutil.copy2(record_key, tmp_path / node / keys.KEY_FILE_NAME)  # where each node looks for it
        configs.append(CollectorConfig(db_path=tmp_path / node / "collector.db", db_url=pg_url,
                                       enroll_secret_file=secret, secrets_key_file=tmp_path / "secrets.key",
                                       admin_password="a long admin password",
                                       lane_ack_wait_seconds=None))  # (the tests read alerts right after)
    return configs
