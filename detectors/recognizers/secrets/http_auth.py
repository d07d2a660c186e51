"""Credentials in HTTP requests as people paste them: ``curl -u user:password`` and
authorization headers (``Authorization: Bearer …``, ``X-Api-Key: …``) in curl commands,
raw requests and header dictionaries in code.

What is not a credential: shell variables and command substitutions (``$PASS``,
``$(cat pw.txt)``), template references (``{{ .Values.pw }}``, ``${{ secrets.X }}``),
placeholders (``<token>``, ``[PASSWORD]``, ``XXXX``, ``...``) and the usual stand-ins
(``user:pass``, ``test:test``, ``username:password``).
"""
from __future__ import annotations

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import cases, is_placeholder, shannon_entropy, stand_in_marked

# Values that stand for a credential rather than being one.
_STAND_IN = re.compile(
    r"""^(?:\$.*|.*\$\{.*|.*\{\{.*|<.*>|\[.*\]|[*xX.#?\-]+|%\w+%
        |(?i:pass|passwd|password|pwd|secret|test|token|changeme|changeit|user|username|admin|root|none|null|api_?key))$""",
    re.VERBOSE,
)
# How far before a -u option the curl command may start (continued lines, other options).
CURL_REACH = 600


def credential_like(value: str, min_length: int = 6) -> bool:
    """Long enough, not a stand-in, not a mask, and with some randomness."""
    return (len(value) >= min_length and not _STAND_IN.match(value)
            and not is_placeholder(value, min_distinct=4, keyboard_runs=False) and not stand_in_marked(value)
            and shannon_entropy(value) >= 2.0)


def _unquote(part: str) -> str:
    return part[1:-1] if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'" else part


class CurlUserRecognizer(SecretRecognizer):
    entity_type = "CURL_USER_PASSWORD"
    reason = "Password in a curl -u / --user option"
    # -u/--user, then user:password quoted as a whole, or each part quoted or bare.
    _part = r"(?:\"[^\"\n]{0,64}\"|'[^'\n]{0,64}'|[^\s\"':]{0,64})"
    # Without a colon curl prompts for the password: "-u myusername" holds none.
    patterns = ((rf"(?<![\w\-])(?:-u|--user)(?:=|[ \t]{{1,5}})(?P<value>\"[^\"\n:]{{0,64}}:[^\"\n]{{0,128}}\""
                 rf"|'[^'\n:]{{0,64}}:[^'\n]{{0,128}}'"
                 rf"|{_part}:{_part}(?=\s|$))", 0.85),)
    keywords = ("-u", "--user")
    reach_before = 16
    reach_after = 300

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        if "curl" not in text:
            return []
        found = []
        for match, score in self.matches(text, near):
            if "curl" not in text[max(0, match.start() - CURL_REACH):match.start()]:
                continue
            raw = match.group("value")
            user, _, password = _unquote(raw).partition(":")
            user, password = _unquote(user), _unquote(password)
            # "user:" with an empty password: what stands before the colon is the secret.
            secret = password or user
            if not secret or not credential_like(secret):
                continue
            found.append((match.start("value"), match.end("value"), score))
        return found


class AuthorizationHeaderRecognizer(SecretRecognizer):
    entity_type = "HTTP_AUTH_HEADER"
    reason = "Credential in an HTTP authorization or API-key header"
    # The header's name at the start of a line, after a quote or an -H flag; its value,
    # after an optional scheme (Basic, Bearer, Token ...).
    _names = (r"(?:proxy-)?authorization|x-[\w\-]{0,30}?(?:api-?key|token|auth[\w\-]{0,10}|secret)"
              r"|api-?key|api-?token|apikey|private-token|auth-token|access-token|token")
    patterns = ((rf"(?:(?<=[\"'\s])|^)(?i:{_names})[\"']?[ \t]{{0,3}}:[ \t]{{0,5}}[\"']?"
                 rf"(?:(?i:basic|bearer|token|api-token|apikey|key|digest|sso-key)[ \t]+)?"
                 rf"(?P<value>[\w=~@.+/\-]{{8,600}})(?![\w=~@.+/\-])", 0.8),)
    keywords = cases("authorization", "token", "apikey", "api-key", "api_key") + ("ApiKey", "Api-Key", "API-Key")
    reach_before = 40
    reach_after = 700
    flags = re.MULTILINE

    def is_valid(self, value: str) -> bool:
        return credential_like(value, min_length=8) and shannon_entropy(value) >= 2.5
