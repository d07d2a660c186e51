"""Sends spooled events to the collector, gzip-compressed, and removes only what the
collector acknowledged. Retries with exponential backoff and jitter; honours Retry-After."""
from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import time
from email.utils import parsedate_to_datetime

import requests

from shadowmap.agent.config import AgentConfig
from shadowmap.agent.enroll import EnrollError, EnrollmentHolder
from shadowmap.agent.spool import Spool

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 3600.0       # a collector cannot park us for longer than an hour
MAX_BATCH = 1000               # the collector refuses bigger batches


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Uploader:
    def __init__(self, config: AgentConfig, spool: Spool, identity: EnrollmentHolder):
        self.config = config
        self.spool = spool
        self.identity = identity
        self.session = requests.Session()
        self._batch = max(1, min(config.upload_batch, MAX_BATCH))
        self._failures = 0
        self._retry_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._warned_unenrolled = False
        spool.add_listener(self._wake.set)

    @property
    def collector_url(self) -> str | None:
        current = self.identity.current
        return self.config.collector_url or (current.collector_url if current else None)

    # -- thread -------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="uploader", daemon=True)
        self._thread.start()

    def stop(self, flush_timeout: float = 5.0) -> None:
        """Stop the thread, then try (bounded in time) to send what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=flush_timeout + self.config.request_timeout)
        if flush_timeout > 0 and self.spool.depth():
            self.flush(flush_timeout)
        self.session.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            backoff = self._retry_at - time.monotonic()
            if backoff > 0:
                # new events do not cut a backoff short: only stop does
                self._stop.wait(backoff)
                continue
            self._wake.clear()
            try:
                self._drain(deadline=None)
            except Exception:  # the uploader must outlive any surprise; events stay spooled
                log.exception("upload cycle failed")
                self._backoff()
            self._wake.wait(self.config.upload_interval)

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything now, ignoring backoff; True if the spool is empty afterwards."""
        deadline = time.monotonic() + timeout
        while self.spool.depth() and time.monotonic() < deadline:
            if not self._drain(deadline):
                break
        return self.spool.depth() == 0

    # -- one attempt --------------------------------------------------------
    def _backoff(self, at_least: float = 0.0) -> None:
        self._failures += 1
        delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** (self._failures - 1))
        delay = random.uniform(delay / 2, delay)       # jitter: laptops do not retry in lockstep
        self._retry_at = time.monotonic() + max(delay, at_least)

    def _timeout(self, deadline: float | None) -> float:
        if deadline is None:
            return self.config.request_timeout
        return max(0.1, min(self.config.request_timeout, deadline - time.monotonic()))

    def _drain(self, deadline: float | None) -> bool:
        """Send batches until the spool is empty; False as soon as one attempt fails."""
        with self._send_lock:
            reenrolled = False
            while not (deadline is None and self._stop.is_set()):
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                if not self._ensure_enrolled(deadline):
                    return False
                batch = self.spool.next_batch(self._batch)
                if not batch:
                    return True
                outcome = self._send(batch, deadline)
                if outcome == "reenroll":
                    if reenrolled:             # a fresh key refused too: do not spin
                        self._backoff()
                        return False
                    reenrolled = True
                    continue
                if outcome != "ok":
                    return False
            return True

    def _ensure_enrolled(self, deadline: float | None) -> bool:
        if self.identity.current is not None:
            return True
        url = self.collector_url
        if not url or self.identity.secret_file is None:
            if not self._warned_unenrolled:
                log.warning("agent is not enrolled and has no enroll secret file: "
                            "events stay in the spool until `shadowmap agent enroll` is run")
                self._warned_unenrolled = True
            return False
        try:
            self.identity.enroll(url, self._timeout(deadline))
            log.info("enrolled with %s", url)
            return True
        except EnrollError as exc:
            log.warning("enrollment failed: %s", exc)
            self._backoff()
            return False

    def _send(self, batch: list[dict], deadline: float | None) -> str:
        """POST one batch; returns "ok", "reenroll" or "failed" (backoff already scheduled)."""
        ident = self.identity.current
        assert ident is not None
        url = self.collector_url
        # the spool holds only this device's events: stamp the enrolled id (events spooled
        # before enrollment or before a re-enrollment carry an older one)
        events = [dict(event, device_id=ident.device_id) for event in batch]
        body = gzip.compress(json.dumps({"events": events}, separators=(",", ":")).encode("utf-8"))
        headers = {"Authorization": f"Bearer {ident.node_key}", "Content-Type": "application/json",
                   "Content-Encoding": "gzip"}
        try:
            resp = self.session.post(f"{url}/api/v1/events", data=body, headers=headers,
                                     timeout=self._timeout(deadline))
        except requests.RequestException as exc:
            log.warning("upload: collector at %s unreachable (%s); %d events wait in the spool",
                        url, exc.__class__.__name__, self.spool.depth())
            self._backoff()
            return "failed"
        status = resp.status_code
        if status == 200:
            return self._settle(batch, resp)
        if status == 401:
            return self._on_unauthorized(resp, deadline)
        if status in (429, 503):
            wait = retry_after_seconds(resp.headers.get("Retry-After"))
            log.warning("upload: collector busy (HTTP %s), retry after %s s", status, wait)
            self._backoff(at_least=min(wait or 0.0, MAX_RETRY_AFTER))
            return "failed"
        if status in (400, 413):
            return self._shrink_or_dead_letter(batch, status)
        log.warning("upload: collector answered HTTP %s", status)
        self._backoff()
        return "failed"

    def _settle(self, batch: list[dict], resp: requests.Response) -> str:
        try:
            reply = resp.json()
            acked = [i for i in reply.get("acked", []) if isinstance(i, str)]
            rejected = [r for r in reply.get("rejected", []) if isinstance(r, dict)]
        except (ValueError, AttributeError):
            log.warning("upload: the collector's reply is not the expected JSON")
            self._backoff()
            return "failed"
        sent = {event["id"] for event in batch}
        # only ids we sent are acted on: a confused reply must not delete other events
        self.spool.ack([i for i in acked if i in sent])
        for item in rejected:
            if item.get("id") in sent:
                log.error("collector rejected event %s: %s", item["id"], item.get("error"))
                self.spool.dead_letter(item["id"], str(item.get("error", "rejected")))
        handled = set(acked) | {r.get("id") for r in rejected}
        if not sent & handled:
            log.warning("upload: collector acknowledged none of %d events", len(batch))
            self._backoff()
            return "failed"
        self._failures = 0
        self._retry_at = 0.0
        # grow back after a 413/400 made batches smaller
        self._batch = min(max(1, min(self.config.upload_batch, MAX_BATCH)), self._batch * 2)
        return "ok"

    def _on_unauthorized(self, resp: requests.Response, deadline: float | None) -> str:
        try:
            reenroll = bool(resp.json().get("reenroll"))
        except (ValueError, AttributeError):
            reenroll = False
        if reenroll and self.identity.secret_file is not None and self.collector_url:
            try:
                self.identity.enroll(self.collector_url, self._timeout(deadline))
                log.warning("node key refused by the collector: re-enrolled")
                return "reenroll"
            except EnrollError as exc:
                log.error("node key refused and re-enrollment failed: %s", exc)
        else:
            log.error("the collector refused this agent's node key; re-enroll with "
                      "`shadowmap agent enroll` (no enroll secret file is configured)")
        self._backoff()
        return "failed"

    def _shrink_or_dead_letter(self, batch: list[dict], status: int) -> str:
        if len(batch) > 1:
            self._batch = max(1, len(batch) // 2)
            log.warning("upload: HTTP %s for %d events, retrying in batches of %d",
                        status, len(batch), self._batch)
            return "ok"
        self.spool.dead_letter(batch[0]["id"], f"collector refused the event with HTTP {status}")
        self._batch = max(1, min(self.config.upload_batch, MAX_BATCH))
        return "ok"
