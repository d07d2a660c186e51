"""The native-messaging host: a thin relay between the browser extension and the agent.

The browser starts this process once per connectNative port and talks to it over stdio
(framing.py). Each request is checked just enough to keep garbage away from the agent,
forwarded over one Unix-socket connection, and the agent's reply goes back with the same
`id`. Stdlib only, so it starts in well under 150 ms. stdout carries nothing but frames;
logs go to stderr (Chrome copies a host's stderr into its own log).
"""
from __future__ import annotations

import os
import sys

from shadowmap.bridge import ipc_validate
from shadowmap.contract import ipc_request_types
from shadowmap.contract.host import MAX_BROWSER_FIELD
from shadowmap.ipc import framing
from shadowmap.ipc.agent_link import AgentBadReply, AgentLink, AgentUnavailable, agent_socket_path

TYPE_CHECKING = False  # the stdlib idiom: typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from typing import BinaryIO

LOG_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class StderrLog:
    """The few logging calls the host makes, written to stderr (Chrome copies a host's
    stderr into its log). Not the logging module: importing it costs the host ~20 % of its
    cold start, which the browser pays on every connectNative."""

    def __init__(self, level: int = LOG_LEVELS["INFO"]):
        self.level = level

    def _emit(self, level: str, msg: str, args: tuple) -> None:
        if LOG_LEVELS[level] >= self.level:
            sys.stderr.write(f"shadowmap-bridge {level} {msg % args if args else msg}\n")
            sys.stderr.flush()

    def info(self, msg: str, *args: object) -> None:
        self._emit("INFO", msg, args)

    def warning(self, msg: str, *args: object) -> None:
        self._emit("WARNING", msg, args)

    def exception(self, msg: str, *args: object) -> None:
        import traceback  # only on the way down

        self._emit("ERROR", f"{msg}\n{traceback.format_exc().rstrip()}", args)


log = StderrLog()

# what the extension may ask the agent: the contract's request types (schema/ipc.v1.json)
REQUEST_TYPES = frozenset(ipc_request_types())


class Caller:
    """Who started the host: the browser family and the extension's origin or id.
    (A plain class: importing dataclasses costs the host ~10 % of its start.)"""

    __slots__ = ("browser", "origin")

    def __init__(self, browser: str, origin: str):
        self.browser = browser
        self.origin = origin

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Caller) and (self.browser, self.origin) == (other.browser, other.origin)

    def __repr__(self) -> str:
        return f"Caller({self.browser!r}, {self.origin!r})"


def identify_caller(argv: list[str]) -> Caller:
    """Chrome passes `chrome-extension://ID/` as argv[1]; Firefox passes the host manifest
    path and then the add-on id."""
    args = argv[1:]
    if args and args[0].startswith("chrome-extension://"):
        return Caller("chromium", args[0])
    if len(args) >= 2 and args[0].endswith(".json"):
        return Caller("firefox", args[1])
    return Caller("unknown", args[0] if args else "")


def check_request(message: dict) -> dict | None:
    """Return an error reply for a request the agent should never see, else None: an
    unknown type, a scan text over the byte limit, or anything else ipc.v1.json refuses."""
    request_id = message.get("id")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in REQUEST_TYPES:
        shown = kind if isinstance(kind, str) else type(kind).__name__
        return framing.error("unknown_type", f"unknown request type {shown[:40]!r}", request_id)
    text = message.get("text")
    # the byte bound (JSON Schema counts characters); cheap upper bound first: UTF-8 takes at most 4 bytes each
    if (kind == "scan" and isinstance(text, str) and len(text) * 4 > framing.MAX_SCAN_TEXT
            and len(text.encode("utf-8", "surrogatepass")) > framing.MAX_SCAN_TEXT):
        return framing.error(
            "too_large", f"the text is larger than {framing.MAX_SCAN_TEXT} bytes and was not scanned", request_id
        )
    try:
        ipc_validate.validate(message, name_prefix="request")
    except ipc_validate.JsonSchemaValueException as exc:
        return framing.error("bad_request", str(exc.message)[:300], request_id)
    except RecursionError:  # absurdly nested JSON: refused, never a crash
        return framing.error("bad_request", "the request is nested too deeply", request_id)
    return None


class Relay:
    """Reads browser frames, forwards valid requests, writes exactly one reply for each."""

    def __init__(self, stdin: BinaryIO, stdout: BinaryIO, link: AgentLink, caller: Caller):
        self.stdin = stdin
        self.stdout = stdout
        self.link = link
        self.caller = caller

    def send(self, reply: dict) -> None:
        try:
            data = framing.encode(reply)
        except framing.FrameError as exc:
            # over the browser's 1 MiB limit: the browser would drop the whole port
            log.warning("reply to id=%r dropped: %s", reply.get("id"), exc.detail)
            data = self._encode_error("too_large", f"the reply was too large for the browser ({exc.detail})", reply)
        except (TypeError, ValueError) as exc:  # e.g. a lone surrogate echoed in an id
            log.warning("reply not encodable: %s", exc)
            data = self._encode_error("internal", "the reply could not be encoded", reply)
        self.stdout.write(data)
        self.stdout.flush()

    @staticmethod
    def _encode_error(code: str, detail: str, reply: dict) -> bytes:
        try:
            return framing.encode(framing.error(code, detail, reply.get("id")))
        except (framing.FrameError, TypeError, ValueError):
            return framing.encode(framing.error(code, detail))

    def handle(self, message: dict) -> dict:
        problem = check_request(message)
        if problem is not None:
            return problem
        request_id = message.get("id")
        forwarded = dict(message)
        if self.caller.origin:
            forwarded["browser"] = self.caller.origin[:MAX_BROWSER_FIELD]
        try:
            reply = self.link.request(forwarded)
        except framing.FrameError as exc:  # the request itself cannot be framed for the agent
            return framing.error(exc.code, exc.detail, request_id)
        except (TypeError, ValueError) as exc:  # e.g. lone surrogates: not encodable as UTF-8
            return framing.error("bad_request", f"the request cannot be encoded: {exc}"[:200], request_id)
        except AgentUnavailable as exc:
            log.warning("agent unavailable: %s", exc)
            return framing.error("agent_unavailable", f"shadowmap agent unavailable: {exc}", request_id)
        except AgentBadReply as exc:
            log.warning("%s", exc)
            return framing.error("internal", str(exc), request_id)
        # the browser matches replies by id: never let the agent's reply carry another one
        if request_id is None:
            reply.pop("id", None)
        else:
            reply["id"] = request_id
        return reply

    def run(self) -> int:
        """Serve until the browser closes stdin (0) or the stream goes out of sync (1)."""
        while True:
            try:
                message = framing.read_frame(self.stdin)
            except framing.FrameError as exc:
                self.send(framing.error(exc.code, exc.detail))
                if exc.fatal:
                    log.warning("closing: %s", exc)
                    return 1
                continue
            if message is None:
                return 0
            self.send(self.handle(message))


def main(argv: list[str] | None = None) -> int:
    log.level = LOG_LEVELS.get(os.environ.get("SHADOWMAP_BRIDGE_LOG_LEVEL", "INFO").upper(), LOG_LEVELS["INFO"])
    caller = identify_caller(sys.argv if argv is None else argv)
    link = AgentLink(agent_socket_path())
    log.info("started for %s (%s), agent socket %s", caller.browser, caller.origin, link.path)
    relay = Relay(sys.stdin.buffer, sys.stdout.buffer, link, caller)
    try:
        return relay.run()
    except BrokenPipeError:
        return 0  # the browser went away mid-reply
    except Exception:  # the last line of defence: a traceback must never reach stdout
        log.exception("native host failed")
        return 1
    finally:
        link.close()


if __name__ == "__main__":
    sys.exit(main())
