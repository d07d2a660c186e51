"""One IPC connection, whatever carries it: framed JSON requests in, one reply each out.

Shared by the Unix-socket server (agent/ipc.py) and the Windows named-pipe server
(agent/ipc_windows.py), so both speak exactly the same protocol: a bad frame gets an
error frame; only a stream that is out of sync (fatal framing error) ends the connection.
The OS user is given by the transport (peer credentials), never taken from a message.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import BinaryIO

from shadowmap.ipc import framing

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


def serve_one(reader: BinaryIO, write: Write, user: str, handle: Handler) -> bool:
    """Read one request and answer it; False when the connection should end."""
    try:
        msg = framing.read_frame(reader)
    except framing.FrameError as exc:
        write(encode_reply(framing.error(exc.code, exc.detail)))
        return not exc.fatal
    if msg is None:
        return False
    write(encode_reply(handle(msg, user)))
    return True


def serve_connection(reader: BinaryIO, write: Write, user: str, handle: Handler,
                     closing: threading.Event) -> None:
    """Answer requests until the peer closes, the stream goes out of sync or the server
    closes. Transport errors (OSError) propagate: the caller closes its connection."""
    while not closing.is_set() and serve_one(reader, write, user, handle):
        pass
