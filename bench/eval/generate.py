"""A random string matching a regex: the token shapes in sources/gitleaks_formats.tsv are
regexes; a sample of each is what a positive test case holds.

Walks the parse tree of Python's own regex parser; supports what token shapes use
(literals, classes, categories, repeats, groups, alternation). Deterministic for a seeded
Random. Unbounded repeats ("+", "*") are drawn up to a few characters past their minimum.
"""
from __future__ import annotations

import random

# The parser of Python's re module and its opcodes: no public API parses a regex.
import re._constants as c
import re._parser as parser
import string

_CATEGORY = {
    c.CATEGORY_DIGIT: string.digits,
    c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    c.CATEGORY_SPACE: " ",
    c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}
_UNBOUNDED_EXTRA = 8


def sample_of(regex: str, rng: random.Random) -> str:
    return _emit(parser.parse(regex), rng)


def _emit(tree, rng: random.Random) -> str:
    out = []
    for op, arg in tree:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.IN:
            out.append(rng.choice(_class_chars(arg)))
        elif op is c.ANY:
            out.append(rng.choice(string.ascii_letters))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, sub = arg
            high = low + _UNBOUNDED_EXTRA if high is c.MAXREPEAT else high
            out.extend(_emit(sub, rng) for _ in range(rng.randint(low, high)))
        elif op is c.SUBPATTERN:
            out.append(_emit(arg[-1], rng))
        elif op is c.BRANCH:
            out.append(_emit(rng.choice(arg[1]), rng))
        elif op is c.AT:
            continue
        else:
            raise ValueError(f"unsupported regex element {op} in a token shape")
    return "".join(out)


# What a negated class ([^\s?#]) draws from: plain characters, minus the excluded ones.
_NEGATED_POOL = string.ascii_letters + string.digits + "-_."


def _class_chars(items) -> str:
    chars: list[str] = []
    if items and items[0][0] is c.NEGATE:
        excluded = set(_class_chars(items[1:]))
        return "".join(ch for ch in _NEGATED_POOL if ch not in excluded)
    for op, arg in items:
        if op is c.LITERAL:
            chars.append(chr(arg))
        elif op is c.RANGE:
            chars.extend(chr(x) for x in range(arg[0], arg[1] + 1))
        elif op is c.CATEGORY:
            chars.extend(_CATEGORY[arg])
        else:
            raise ValueError(f"unsupported class element {op}")
    return "".join(chars)
