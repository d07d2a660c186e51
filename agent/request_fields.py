"""The fields of an IPC request, read and checked: what the contract's schema cannot say
(URLs, integer ranges, base64 file bytes within the byte limits), each failure a
RequestError the handlers answer with an error frame."""
from __future__ import annotations

import base64
import binascii

from shadowmap import contract
from shadowmap.agent import events
from shadowmap.agent.events import BadURL
from shadowmap.contract.host import MAX_FILE_CONTENT, MAX_FILES, MAX_FILES_CONTENT


class RequestError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def optional_str(msg: dict, field: str) -> str | None:
    """A string field the contract already checked (type and length: schema/ipc.v1.json)."""
    value = msg.get(field)
    return value if isinstance(value, str) else None


def int_field(msg: dict, field: str, low: int, high: int, default: int | None = None) -> int:
    value = msg.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError("bad_request", f"{field} must be an integer from {low} to {high}")
    return value


def file_facts(msg: dict) -> list[dict]:
    """File facts from the extension (name, type, size, read), checked field by field."""
    raw = msg.get("files", [])
    if not isinstance(raw, list) or len(raw) > MAX_FILES:
        raise RequestError("bad_request", f"files must be a list of at most {MAX_FILES} entries")
    files = []
    for item in raw:
        if not isinstance(item, dict):
            raise RequestError("bad_request", "each file must be an object")
        name, mime, read = item.get("name"), item.get("mime", ""), item.get("read")
        if not isinstance(name, str) or not isinstance(mime, str) or not isinstance(read, bool):
            raise RequestError("bad_request", "a file needs name and mime as strings and read as a boolean")
        entry = {"name": name[:255], "size": int_field(item, "size", 0, 2**53), "read": read}
        if mime:
            entry["mime"] = mime[:255]
        files.append(entry)
    return files


def file_contents(msg: dict) -> list[tuple[int, str, bytes]]:
    """The bytes of the files that carry them (base64): (index in files, name, bytes),
    within the contract's limits (schema/host.v1.json)."""
    contents, total = [], 0
    for index, item in enumerate(msg.get("files") or []):
        encoded = item.get("content") if isinstance(item, dict) else None
        if not isinstance(encoded, str):
            continue
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("bad_request", "a file's content must be base64") from None
        total += len(data)
        if len(data) > MAX_FILE_CONTENT or total > MAX_FILES_CONTENT:
            raise RequestError("too_large", f"file content over {MAX_FILE_CONTENT} bytes a file "
                                            f"or {MAX_FILES_CONTENT} bytes a request")
        contents.append((index, str(item.get("name", ""))[:255], data))
    return contents


def domain_of(msg: dict) -> str:
    if "url" not in msg:
        raise RequestError("bad_request", "url is required")
    try:
        return events.host_of(msg["url"])
    except BadURL as exc:
        raise RequestError("bad_request", str(exc)) from None


def check_contract(msg: dict) -> None:
    """The request as schema/ipc.v1.json declares it (what the native host checks too); the
    handlers then check what a schema cannot say (URLs, byte sizes, whose warning it is)."""
    try:
        contract.validate_ipc_request(msg)
    except contract.ContractError as exc:
        raise RequestError("bad_request", str(exc)) from None
