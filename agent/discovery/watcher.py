"""File-change source: watchdog watches the folders that hold the target files, one folder at
a time and never recursively (a whole home is never watched). A change to a target marks it
dirty and wakes the discovery loop. When the OS refuses a watch (inotify watch or instance
limit, permissions) the folder's targets are polled instead, one warning names the limit and
the sysctl to raise, and ``limitation`` says so: the agent never dies of it."""
from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

log = logging.getLogger(__name__)

# Only what changes a file's content or existence; IN_CLOSE_WRITE rather than IN_MODIFY (one
# event per save, not per write). Opens and reads are never asked for: a watched /etc or
# home sees thousands of them a minute, which alone cost ~1 % of a core.
EVENTS = [FileCreatedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
          DirCreatedEvent, DirDeletedEvent, DirMovedEvent]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: ConfigWatcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.touched(os.fsdecode(raw))


# Why the OS refused a watch, and what an admin raises: errno -> (limit, sysctl).
# watchdog raises OSError(ENOSPC, "inotify watch limit reached") per watch and
# OSError(EMFILE, "inotify instance limit reached") when it cannot open its inotify instance.
INOTIFY_LIMITS = {
    errno.ENOSPC: ("inotify watch limit reached", "fs.inotify.max_user_watches", 524288),
    errno.EMFILE: ("inotify instance limit reached", "fs.inotify.max_user_instances", 1024),
}


def refusal_reason(exc: OSError) -> str:
    """One line naming the limit and the sysctl to raise, or the OS's own reason."""
    known = INOTIFY_LIMITS.get(exc.errno) if exc.errno is not None else None
    if known is None:
        return f"cannot watch ({exc.strerror or exc})"
    what, sysctl, suggested = known
    return f"{what} ({sysctl}; raise it, e.g. sysctl -w {sysctl}={suggested})"


class ConfigWatcher:
    def __init__(self, wake: threading.Event, poll_seconds: float = 60.0):
        self.wake = wake
        self.poll_seconds = poll_seconds
        self._observer: BaseObserver | None = None
        self._targets: set[str] = set()
        self._ancestors: set[str] = set()        # folders between a watched folder and a target
        self._folder_of: dict[str, str] = {}     # target -> the folder watched for it
        self._watched: dict[str, ObservedWatch] = {}
        self.unwatched: dict[str, str] = {}      # folder the OS refused -> why
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self.limitation: str | None = None

    def start(self) -> None:
        observer = Observer()
        observer.daemon = True
        try:
            observer.start()
        except OSError as exc:        # no inotify at all: every folder is polled
            log.warning("file watching unavailable (%s): config files are polled", exc)
            return
        self._observer = observer

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)

    def _schedule(self, folder: str) -> ObservedWatch:
        """The one place a watch is asked of the OS (tests inject its refusals here)."""
        assert self._observer is not None
        return self._observer.schedule(_Handler(self), folder, recursive=False, event_filter=EVENTS)

    def plan(self, targets: Iterable[Path], folders: Iterable[Path] = ()) -> None:
        """Watch the nearest existing folder of each target (non-recursive), and ``folders``
        themselves (workspaces, where new .env files may appear). Folders the OS refuses are
        kept in ``unwatched``: their targets are polled (``polled_targets``) instead."""
        wanted: set[str] = set()
        ancestors: set[str] = set()
        folder_of: dict[str, str] = {}
        paths = {str(p) for p in targets}
        for path in paths:
            folder = Path(path).parent
            while not folder.is_dir() and folder != folder.parent:
                ancestors.add(str(folder))       # created later: its creation is a change
                folder = folder.parent
            wanted.add(str(folder))
            folder_of[path] = str(folder)
        for extra in folders:
            if extra.is_dir():
                wanted.add(str(extra))
                folder_of[str(extra)] = str(extra)
        with self._lock:
            self._targets = paths | {str(f) for f in folders}
            self._ancestors = ancestors
            self._folder_of = folder_of
        for gone in sorted(set(self._watched) - wanted):
            try:
                if self._observer is not None:
                    self._observer.unschedule(self._watched.pop(gone))
            except (KeyError, ValueError, OSError):
                pass
        refused: dict[str, str] = {}
        for new in sorted(wanted - set(self._watched)):
            if self._observer is None:            # no file watching at all on this machine
                refused[new] = "file watching unavailable"
                continue
            try:
                self._watched[new] = self._schedule(new)
            except OSError as exc:                # never fatal: the folder is polled instead
                refused[new] = refusal_reason(exc)
                log.debug("cannot watch %s: %s", new, exc)
        self.unwatched = refused
        self._report(refused)

    def _report(self, refused: dict[str, str]) -> None:
        if not refused:
            self.limitation = None
            return
        reasons = sorted(set(refused.values()))
        self.limitation = (f"{'; '.join(reasons)}: {len(refused)} folders are polled every "
                           f"{self.poll_seconds:g} s instead of watched")[:300]
        fresh = [r for r in reasons if r not in self._warned]
        if fresh:                                 # once per reason, not on every plan
            self._warned.update(fresh)
            log.warning("config watching: %s", self.limitation)

    def polled_targets(self) -> list[str]:
        """Targets (files, workspace folders) whose watch the OS refused."""
        with self._lock:
            return sorted(t for t, folder in self._folder_of.items() if folder in self.unwatched)

    @property
    def watched(self) -> list[str]:
        return sorted(self._watched)

    def touched(self, path: str) -> None:
        hit: str | None
        with self._lock:
            if path in self._targets or path in self._ancestors:
                hit = path
            else:
                parent = str(Path(path).parent)
                name = Path(path).name
                # a new .env/.aider* file in a watched workspace, or a workspace marker
                hit = path if parent in self._targets and name.startswith((".env", ".aider", ".mcp")) else None
            if hit is None:
                return
            self._dirty.add(hit)
        self.wake.set()

    def take_dirty(self) -> set[str]:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        return dirty
