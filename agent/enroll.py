"""Enrollment in the osquery/Fleet style: the enroll secret buys a per-device node key,
stored in state_dir/enrollment.json (0600).

A device is this agent: the host, its mode and, in user mode, its OS user (the collector
binds a user-mode node key to that user). Re-enrolling sends the current node key; without
one (lost, revoked) the collector leaves a request an admin approves, bound to this agent's
request token (state_dir/enroll_request_token, 0600), and answers "pending"."""
from __future__ import annotations

import base64
import binascii
import getpass
import json
import os
import platform
import secrets
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from shadowmap.agent.config import ENROLLMENT_FILE, read_enrollment_file

MACHINE_ID = Path("/etc/machine-id")
HOST_ID_FILE = "host_identifier"
REQUEST_TOKEN_FILE = "enroll_request_token"
RELOAD_SECONDS = 1.0             # how often an unenrolled agent looks for enrollment.json


class EnrollError(Exception):
    """Enrollment failed; the message says why in words an operator can act on."""


class EnrollPending(EnrollError):
    """The collector knows this device and wants an admin to approve the re-enrollment."""


@dataclass(frozen=True)
class Enrollment:
    collector_url: str
    device_id: str
    node_key: str
    org_key: str          # base64, as the collector sent it

    @property
    def org_key_bytes(self) -> bytes:
        return base64.b64decode(self.org_key)


def _checked(enrollment: Enrollment) -> Enrollment:
    """The enrollment, once its org key decodes (binascii.Error, a ValueError, otherwise)."""
    _ = enrollment.org_key_bytes
    return enrollment


def load_enrollment(state_dir: Path) -> Enrollment | None:
    data = read_enrollment_file(state_dir / ENROLLMENT_FILE)
    try:
        enrollment = _checked(Enrollment(**{k: data[k] for k in ("collector_url", "device_id", "node_key", "org_key")}))
    except (KeyError, TypeError, binascii.Error, ValueError):
        return None
    return enrollment


def save_enrollment(state_dir: Path, enrollment: Enrollment) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / ENROLLMENT_FILE
    tmp = path.with_suffix(".tmp")
    # created 0600 from the start: the node key is never readable by others, even briefly
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(enrollment), fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def host_identifier(state_dir: Path) -> str:
    """Stable per machine: a stored id, else /etc/machine-id, else a new uuid kept in state."""
    stored = state_dir / HOST_ID_FILE
    for candidate in (stored, MACHINE_ID):
        try:
            value = candidate.read_text("utf-8").strip()
        except OSError:
            continue
        if value:
            return value[:128]
    value = str(uuid.uuid4())
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored.write_text(value + "\n", "utf-8")
    return value


def request_token(state_dir: Path) -> str:
    """This agent's enrollment request token: what an admin's approval is bound to."""
    path = state_dir / REQUEST_TOKEN_FILE
    try:
        value = path.read_text("utf-8").strip()
    except OSError:
        value = ""
    if value:
        return value
    value = secrets.token_urlsafe(32)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def identity_fields(mode: str) -> dict[str, str]:
    """The mode, and in user mode the OS user, that make this agent a device of its own."""
    fields = {"mode": mode}
    if mode == "user":
        fields["os_user"] = os_user()[:256]
    return fields


def os_user() -> str:
    """This process's OS user, named as the agent names it in events (SO_PEERCRED's uid, the
    passwd entry), not from $USER: the collector binds a user-mode node key to it."""
    if os.name != "posix":
        return getpass.getuser()
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid:{os.geteuid()}"


def read_secret(secret_file: Path) -> str:
    try:
        secret = Path(secret_file).read_text("utf-8").strip()
    except OSError as exc:
        raise EnrollError(f"cannot read the enroll secret file {secret_file}: {exc.strerror}") from None
    if not secret:
        raise EnrollError(f"the enroll secret file {secret_file} is empty")
    return secret


def enroll(collector_url: str, secret: str, state_dir: Path, timeout: float = 10.0,
           mode: str = "system") -> Enrollment:
    """Enroll this device and store the result; raises EnrollError with a clear message
    (EnrollPending while an admin has to approve)."""
    collector_url = collector_url.rstrip("/")
    body = {
        "enroll_secret": secret,
        "host_identifier": host_identifier(state_dir),
        "hostname": socket.gethostname()[:253],
        "os": platform.system() or "unknown",
        "request_token": request_token(state_dir),
        **identity_fields(mode),
    }
    current = load_enrollment(state_dir)
    if current is not None and current.collector_url == collector_url:
        body["node_key"] = current.node_key        # proves this is the device it says it is
    try:
        resp = requests.post(f"{collector_url}/api/v1/enroll", json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise EnrollError(f"the collector at {collector_url} is unreachable: {exc.__class__.__name__}") from None
    if resp.status_code in (401, 403):
        raise EnrollError("the collector refused the enroll secret")
    if resp.status_code == 202:
        raise EnrollPending("the collector knows this device already: an admin must approve its "
                            "re-enrollment (console: Devices; CLI: shadowmap collector devices approve)")
    if resp.status_code != 200:
        raise EnrollError(f"the collector at {collector_url} answered HTTP {resp.status_code} to enrollment")
    try:
        reply = resp.json()
        enrollment = _checked(Enrollment(collector_url, str(reply["device_id"]), str(reply["node_key"]),
                                         str(reply["org_key"])))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise EnrollError("the collector's enrollment reply is malformed") from None
    save_enrollment(state_dir, enrollment)
    return enrollment


class EnrollmentHolder:
    """The current enrollment, shared by the IPC handlers, uploader and policy refresher;
    replaced whole when the uploader re-enrolls."""

    def __init__(self, state_dir: Path, secret_file: Path | None = None, mode: str = "system"):
        self.state_dir = state_dir
        self.secret_file = secret_file
        self.mode = mode
        self._lock = threading.Lock()
        self._current = load_enrollment(state_dir)
        self._last_look = time.monotonic()

    @property
    def current(self) -> Enrollment | None:
        # an unenrolled agent notices `shadowmap agent enroll` run while it is running
        if self._current is None and time.monotonic() - self._last_look > RELOAD_SECONDS:
            self._last_look = time.monotonic()
            self._current = load_enrollment(self.state_dir)
        return self._current

    def enroll(self, collector_url: str, timeout: float = 10.0) -> Enrollment:
        """(Re-)enroll with the configured secret file; raises EnrollError."""
        if self.secret_file is None:
            raise EnrollError("no enroll secret file is configured; run `shadowmap agent enroll`")
        secret = read_secret(self.secret_file)
        with self._lock:
            self._current = enroll(collector_url, secret, self.state_dir, timeout, self.mode)
        return self._current
