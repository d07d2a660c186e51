"""One IPC connection, whatever carries it: framed JSON requests in, one reply each out.

Shared by the Unix-socket server (agent/ipc.py) and the Windows named-pipe server
(agent/ipc_windows.py), so both speak exactly the same protocol: a bad frame gets an
error frame; only a stream that is out of sync (fatal framing error) ends the connection.
The OS user is given by the transport (peer credentials), never taken from a message.
Frames are bounded by the contract's agent_frame_bytes, and each is read only once its
user's memory budget (agent/ipc_budget.py) has room for it; a frame refused for the budget
is drained unkept, so the connection stays in step.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import BinaryIO

from shadowmap.agent.ipc_budget import IPCBudget
from shadowmap.ipc import framing

DRAIN_CHUNK = 64 * 1024
# one budget for the process: every transport's connections share the agent's memory
SHARED_BUDGET = IPCBudget()

Handler = Callable[[dict, str], dict]
Write = Callable[[bytes], object]


def encode_reply(reply: dict) -> bytes:
    """A reply as a frame; a reply that cannot be framed becomes an error frame."""
    try:
        return framing.encode(reply)
    except framing.FrameError:
        return framing.encode(framing.error("too_large", "the reply was too large to send"))
    except (TypeError, ValueError):
        return framing.encode(framing.error("internal", "the reply could not be encoded"))


def too_many_connections() -> bytes:
    """The reply to a connection refused by the budget's caps, before it is closed."""
    return encode_reply(framing.error("too_large", "too many connections to the agent"))


def _drain(reader: BinaryIO, length: int) -> bool:
    """Read and drop a frame's body; False if the stream ended first."""
    while length > 0:
        chunk = reader.read(min(length, DRAIN_CHUNK))
        if not chunk:
            return False
        length -= len(chunk)
    return True


def serve_one(reader: BinaryIO, write: Write, user: str, handle: Handler,
              budget: IPCBudget = SHARED_BUDGET) -> bool:
    """Read one request and answer it; False when the connection should end."""
    try:
        length = framing.read_length(reader, framing.MAX_TO_AGENT)
    except framing.FrameError as exc:
        write(encode_reply(framing.error(exc.code, exc.detail)))
        return not exc.fatal
    if length is None:
        return False
    cost = budget.cost(length)
    if not budget.reserve(user, cost):
        write(encode_reply(framing.error(
            "too_large", f"the agent cannot hold another {length}-byte request of this user now; try again")))
        return _drain(reader, length)
    try:
        try:
            msg = framing.read_body(reader, length)
        except framing.FrameError as exc:
            write(encode_reply(framing.error(exc.code, exc.detail)))
            return not exc.fatal
        reply = handle(msg, user)
        del msg                    # the request's text is not kept while the reply is written
        write(encode_reply(reply))
    finally:
        budget.release(user, cost)
    return True


def serve_connection(reader: BinaryIO, write: Write, user: str, handle: Handler,
                     closing: threading.Event, budget: IPCBudget = SHARED_BUDGET) -> None:
    """Answer requests until the peer closes, the stream goes out of sync or the server
    closes. Transport errors (OSError) propagate: the caller closes its connection."""
    while not closing.is_set() and serve_one(reader, write, user, handle, budget):
        pass
