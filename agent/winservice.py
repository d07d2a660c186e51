"""The agent as a Windows service, hosted by pywin32's pythonservice.exe.

The MSI (shadowmap/mdm/windows.py) registers the service ShadowmapAgent with
pythonservice.exe as its binary and writes SERVICE_CLASS as the service's PythonClass;
pythonservice.exe imports this module and runs ShadowmapService. The service takes no
arguments: everything comes from the managed configuration the MSI writes
(HKLM\\SOFTWARE\\Policies\\shadowmap\\Agent, read by agent/managed.py), as on the other OSes.

`AgentRunner` is the part that is not Win32 — build the agent, serve until told to stop,
stop cleanly — and is tested on Linux. `ShadowmapService` (defined only where pywin32 is
installed) is the thin SCM shell around it and is UNVERIFIED HERE (no Windows in CI).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from shadowmap.agent.config import AgentConfig, load_config
from shadowmap.contract.host import WINDOWS_SERVICE_NAME

if TYPE_CHECKING:
    from shadowmap.detectors.catalog import Catalog
    from shadowmap.detectors.engine import ScanEngine
    from shadowmap.detectors.hashing import Summarize

log = logging.getLogger(__name__)

SERVICE_NAME = WINDOWS_SERVICE_NAME                  # the MSI's ServiceInstall Name (the contract's)
SERVICE_DISPLAY_NAME = "shadowmap agent"
SERVICE_DESCRIPTION = "Checks pastes into AI tools and reports shadow AI to the collector"
SERVICE_CLASS = "shadowmap.agent.winservice.ShadowmapService"  # what pythonservice.exe imports
# how long the SCM should wait for a stop: the uploader's last flush plus thread joins
FLUSH_TIMEOUT_S = 5.0
STOP_WAIT_HINT_MS = 20_000
# Windows environment names are case-insensitive: PROGRAMDATA is %ProgramData%
LOG_FILE = Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "shadowmap" / "logs" / "agent.log"

EngineParts: TypeAlias = tuple["ScanEngine", "Catalog", "Summarize"]   # what AgentDaemon takes after the config


def load_engine() -> EngineParts:
    """The detection engine, catalog and summarizer, as `shadowmap agent run` loads them."""
    from shadowmap.detectors.catalog import load_catalog
    from shadowmap.detectors.engine import DetectorSettings, ScanEngine
    from shadowmap.detectors.hashing import summarize
    return ScanEngine(DetectorSettings()), load_catalog(), summarize


def load_service_config() -> AgentConfig:
    return load_config(mode="system")


class AgentRunner:
    """Runs one agent until `stop` is set. Start failures raise (and leave nothing
    running); a stop always ends in AgentDaemon.stop, which flushes the spool's uploads."""

    def __init__(self, load: Callable[[], AgentConfig] = load_service_config,
                 engine: Callable[[], EngineParts] = load_engine):
        self.load = load
        self.engine = engine

    def run(self, stop: threading.Event, ready: Callable[[str], None] | None = None) -> None:
        from shadowmap.agent.daemon import AgentDaemon

        config = self.load()
        parts = self.engine()
        daemon = AgentDaemon(config, *parts)
        try:
            daemon.start()
        except BaseException:
            daemon.stop(flush_timeout=0)
            raise
        address = str(daemon.ipc.path)
        log.info("agent ready on %s", address)
        if ready is not None:
            ready(address)
        try:
            stop.wait()
        finally:
            log.info("shutting down")
            daemon.stop(flush_timeout=FLUSH_TIMEOUT_S)


def _log_to_file(path: Path = LOG_FILE) -> None:
    """A service has no console: log to ProgramData (SYSTEM/Administrators only)."""
    from logging.handlers import RotatingFileHandler

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


# ---- Win32 (pywin32) -- runs only under pythonservice.exe on Windows; unverified here ----
try:
    import servicemanager
    import win32service
    import win32serviceutil
except ImportError:          # not Windows, or pywin32 missing: only AgentRunner is usable
    win32serviceutil = None

if win32serviceutil is not None:
    class ShadowmapService(win32serviceutil.ServiceFramework):
        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = SERVICE_DISPLAY_NAME
        _svc_description_ = SERVICE_DESCRIPTION

        def __init__(self, args):
            super().__init__(args)
            self.stop_requested = threading.Event()

        def SvcStop(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=STOP_WAIT_HINT_MS)
            self.stop_requested.set()

        def SvcDoRun(self) -> None:
            # ServiceFramework.SvcRun has reported SERVICE_RUNNING before calling this
            _log_to_file()
            servicemanager.LogMsg(servicemanager.EVENTLOG_INFORMATION_TYPE, servicemanager.PYS_SERVICE_STARTED,
                                  (self._svc_name_, ""))
            try:
                AgentRunner().run(self.stop_requested)
            except Exception:
                log.exception("the agent failed")
                servicemanager.LogErrorMsg(f"{SERVICE_NAME} failed; see {LOG_FILE}")
                # die without reporting SERVICE_STOPPED: the SCM counts that as a failure and
                # applies the restart actions the MSI set (sc.exe failure ... restart/...)
                logging.shutdown()
                os._exit(1)
            servicemanager.LogMsg(servicemanager.EVENTLOG_INFORMATION_TYPE, servicemanager.PYS_SERVICE_STOPPED,
                                  (self._svc_name_, ""))
