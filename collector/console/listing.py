"""What the devices, MCP servers and browser extensions pages share: free-text search, filters
whose values must be among known choices (a bad one is shown beside the others kept, and
lists nothing rather than everything, as the alerts queue does), and real pages with a true
total. These lists are small enough (devices, servers, extensions of one organisation) to
filter and page in Python after one read."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_TEXT = 256
T = TypeVar("T")


class Listing:
    """A list page's query string: ``q`` (free text), the filters in ``choices`` (name ->
    allowed values; "" is always "any") and ``page``, with what is wrong in them by name."""

    def __init__(self, query: Mapping[str, str], path: str, choices: Mapping[str, Sequence[str]],
                 page_size: int = PAGE_SIZE) -> None:
        self.path = path
        self.page_size = page_size
        self.raw = {name: query.get(name, "")[:MAX_TEXT] for name in ("q", "page", *choices) if query.get(name)}
        self.errors: dict[str, str] = {}
        self.text = query.get("q", "").strip()
        if len(self.text) > MAX_TEXT:
            self.errors["q"] = f"the search is too long (at most {MAX_TEXT} characters)"
            self.text = ""
        self.filters: dict[str, str] = {}
        for name, allowed in choices.items():
            value = query.get(name, "").strip()
            if value and value not in allowed:
                self.errors[name] = f"{name.replace('_', ' ')} must be one of {', '.join(allowed)}"
                value = ""
            self.filters[name] = value
        raw_page = query.get("page", "1")
        self.page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 6 else 0
        if not 1 <= self.page <= MAX_PAGE:
            self.errors["page"] = f"page must be a number from 1 to {MAX_PAGE}"
            self.page = 1
        self.total = 0
        self.pages = 1

    @property
    def narrowed(self) -> bool:
        """Whether anything (search or a filter) narrows the list."""
        return bool(self.text) or any(self.filters.values())

    def value(self, name: str) -> str:
        """What the form shows: as typed (a wrong value is kept, to be corrected)."""
        return self.raw.get(name, "")

    def matches(self, *fields: object) -> bool:
        """Whether the free text is in any of these (any case); no text matches everything."""
        if not self.text:
            return True
        folded = self.text.casefold()
        return any(folded in str(field).casefold() for field in _flat(fields) if field is not None)

    def page_of(self, rows: list[T]) -> list[T]:
        """This page's rows of everything that matched (nothing while a filter is wrong)."""
        if self.errors:
            return []
        self.total = len(rows)
        self.pages = max(1, -(-self.total // self.page_size))
        start = (self.page - 1) * self.page_size
        return rows[start:start + self.page_size]

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1

    def url(self, **changes: object) -> str:
        """This list's URL with some parameters changed (None drops one)."""
        params = {**self.raw}
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = str(value)
        return self.path + ("?" + urlencode(params) if params else "")


def _flat(fields: Iterable[Any]) -> Iterable[Any]:
    for field in fields:
        if isinstance(field, (list, tuple, set, frozenset)):
            yield from _flat(field)
        else:
            yield field
