"""A guard for regexes written by people outside this code (the organisation's identifier
formats, set in the collector's console and run on every paste on every laptop): refuse a
pattern that can backtrack catastrophically before it reaches an agent.

Two checks, because neither alone is enough:

- by shape: a group repeated without bound that itself holds an unbounded repetition
  (``(a+)+``, ``(\\w+\\s?)*``, ``([a-z]+\\.)+``) is the classic exponential form; refused
  whatever the text.
- by time: the compiled pattern is run on adversarial texts (long runs of each kind of
  character and of the pattern's own literals, with and without a character that makes the
  match fail at the end) under the `regex` module's timeout. Overlapping alternatives under
  a repetition (``(a|aa)+``) and polynomial forms show up here.

Also refused: a pattern that matches the empty text (it would "find" an identifier
everywhere). Import-light: the `regex` module only.
"""
from __future__ import annotations

import regex as re

# adversarial run length and the time one probe may take; a linear pattern needs well
# under a millisecond for a probe, a catastrophic one exceeds the budget at this length
PROBE_LENGTH = 3_000
PROBE_BUDGET_S = 0.05
# characters of each kind a run is made of; the pattern's own literal characters are added
_PROBE_ALPHABET = "aA0 -._:/@"
_MAX_LITERALS = 12


class UnsafePattern(ValueError):
    """The pattern may take super-linear time on some text, or matches the empty text."""


def check_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """The compiled pattern, or UnsafePattern (or re.error) saying why it is refused."""
    compiled = re.compile(pattern, flags)
    nested = nested_repetition(pattern)
    if nested is not None:
        raise UnsafePattern(f"a repeated group holds an unbounded repetition ({nested!r}): it can backtrack "
                            "catastrophically; use a bounded count such as {1,20} or a possessive form")
    if compiled.fullmatch("") is not None or compiled.search("") is not None:
        raise UnsafePattern("it matches the empty text")
    for probe in _probes(pattern):
        try:
            compiled.search(probe, timeout=PROBE_BUDGET_S)
        except TimeoutError:
            shown = probe[:1] if probe[:1] != " " else "space"
            raise UnsafePattern(f"it took longer than {PROBE_BUDGET_S * 1000:.0f} ms on a run of "
                                f"{PROBE_LENGTH} {shown!r} characters: it backtracks catastrophically") from None
    return compiled


def _probes(pattern: str) -> list[str]:
    literals = [c for c in dict.fromkeys(re.sub(r"\\.|\[[^\]]*\]|\{[^}]*\}", "", pattern))
                if c.isprintable() and c not in "()|*+?^$."][:_MAX_LITERALS]
    texts = []
    for char in dict.fromkeys(_PROBE_ALPHABET + "".join(literals)):
        run = char * PROBE_LENGTH
        texts += [run, run + "\x00", run + "!"]
    texts.append(("a1 " * (PROBE_LENGTH // 3)) + "\x00")
    return texts


def nested_repetition(pattern: str) -> str | None:
    """The first group repeated without bound that holds an unbounded repetition, as
    written; None when there is none."""
    stack: list[tuple[int, bool]] = []   # (where the group opens, holds an unbounded repetition)
    holds_unbounded = False              # in the innermost open group (or the top level)
    i, n = 0, len(pattern)
    last_group: tuple[int, bool] | None = None   # the group that just closed, if the last atom was one
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
            if i <= n and pattern[i - 1] in "pPN" and i < n and pattern[i] == "{":
                i = pattern.find("}", i) + 1 or n
            last_group = None
            continue
        if char == "[":
            i = _class_end(pattern, i)
            last_group = None
            continue
        if char == "(":
            stack.append((i, holds_unbounded))
            holds_unbounded = False
            last_group = None
            i += 1
            continue
        if char == ")" and stack:
            start, outer = stack.pop()
            last_group = (start, holds_unbounded)
            holds_unbounded = outer or holds_unbounded
            i += 1
            continue
        quantifier_end, unbounded, possessive = _quantifier(pattern, i)
        if quantifier_end > i:
            if unbounded:
                # a possessive repetition never gives back what it took: nothing to backtrack
                if last_group is not None and last_group[1] and not possessive:
                    return pattern[last_group[0]:quantifier_end]
                holds_unbounded = True
            last_group = None
            i = quantifier_end
            continue
        last_group = None
        i += 1
    return None


def _class_end(pattern: str, start: int) -> int:
    """The index after the character class opening at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


_COUNT = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _quantifier(pattern: str, i: int) -> tuple[int, bool, bool]:
    """(index after the quantifier at ``i``, whether it is unbounded, whether possessive);
    (i, False, False) when there is none."""
    char = pattern[i]
    if char in "*+":
        end, unbounded = i + 1, True
    elif char == "?":
        end, unbounded = i + 1, False
    elif char == "{" and (count := _COUNT.match(pattern, i)) and (count.group(1) or count.group(3)):
        end, unbounded = count.end(), bool(count.group(2)) and not count.group(3)
    else:
        return i, False, False
    possessive = end < len(pattern) and pattern[end] == "+"
    if end < len(pattern) and pattern[end] in "?+":   # lazy or possessive
        end += 1
    return end, unbounded, possessive
