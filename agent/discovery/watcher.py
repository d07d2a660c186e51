"""File-change source: watchdog watches the folders that hold the target files, one folder at
a time and never recursively (a whole home is never watched). A change to a target marks it
dirty and wakes the discovery loop. When the OS refuses a watch (inotify limits) the folder
is left to the periodic rescan and ``limitation`` says so: the agent never dies of it."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Iterable

from watchdog.events import (DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent,
                             FileCreatedEvent, FileDeletedEvent, FileMovedEvent, FileSystemEvent,
                             FileSystemEventHandler)
from watchdog.observers import Observer

log = logging.getLogger(__name__)

# Only what changes a file's content or existence; IN_CLOSE_WRITE rather than IN_MODIFY (one
# event per save, not per write). Opens and reads are never asked for: a watched /etc or
# home sees thousands of them a minute, which alone cost ~1 % of a core.
EVENTS = [FileCreatedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
          DirCreatedEvent, DirDeletedEvent, DirMovedEvent]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "ConfigWatcher"):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.touched(os.fsdecode(raw))


class ConfigWatcher:
    def __init__(self, wake: threading.Event):
        self.wake = wake
        self._observer: Observer | None = None
        self._targets: set[str] = set()
        self._watched: dict[str, object] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self.limitation: str | None = None

    def start(self) -> None:
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)

    def plan(self, targets: Iterable[Path], folders: Iterable[Path] = ()) -> None:
        """Watch the nearest existing folder of each target (non-recursive), and ``folders``
        themselves (workspaces, where new .env files may appear)."""
        wanted: set[str] = set()
        paths = {str(p) for p in targets}
        for path in paths:
            folder = Path(path).parent
            while not folder.is_dir() and folder != folder.parent:
                folder = folder.parent
            wanted.add(str(folder))
        wanted.update(str(f) for f in folders if f.is_dir())
        with self._lock:
            self._targets = paths | {str(f) for f in folders}
        if self._observer is None:
            return
        refused = 0
        for folder in sorted(set(self._watched) - wanted):
            try:
                self._observer.unschedule(self._watched.pop(folder))
            except (KeyError, ValueError, OSError):
                pass
        for folder in sorted(wanted - set(self._watched)):
            try:
                self._watched[folder] = self._observer.schedule(_Handler(self), folder, recursive=False,
                                                              event_filter=EVENTS)
            except OSError as exc:          # ENOSPC: inotify watch limit; EACCES: unreadable
                refused += 1
                log.debug("cannot watch %s: %s", folder, exc)
        self.limitation = (f"{refused} folders could not be watched (inotify limit or permissions): "
                           "they are rescanned periodically instead") if refused else None
        if refused:
            log.warning(self.limitation)

    @property
    def watched(self) -> list[str]:
        return sorted(self._watched)

    def touched(self, path: str) -> None:
        with self._lock:
            if path in self._targets:
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
