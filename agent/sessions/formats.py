"""What every session reader shares: JSON Lines read tolerantly (a line that is not a JSON object
is counted on the record and skipped), nested objects taken only when they are objects, and the
text of a message's content (a string, or a list of typed parts)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shadowmap.agent.sessions.record import SessionRecord

MAX_FILE_BYTES = 256 * 1024 * 1024   # a session file bigger than this is read in its first part only


def json_lines(path: Path, record: SessionRecord) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES)
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except ValueError:                     # a truncated last line, a partial write
            record.unknown_lines += 1
            continue
        if isinstance(item, dict):
            yield item
        else:
            record.unknown_lines += 1


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text") or part.get("content") or "") for part in content
                         if isinstance(part, dict) and part.get("type") in ("text", "input_text", "tool_result"))
    return ""
