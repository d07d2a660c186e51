"""Secrets known only by where they sit: ``password=`` / ``api_key:`` assignments in config
and code, passwords in connection strings and in URLs.

These run on names, not shapes, so most of the rules are about what is NOT a secret:
template references (``${VAR}``, ``{{ .Values.x }}``, ``%(pw)s``), masks (``****``,
``xxxx``), documented placeholders (``changeme``, ``<your-key>``), code (``os.environ[..]``,
``self.password``, ``get_secret()``), password hashes, and words too plain to be random.
"""
from __future__ import annotations

from typing import ClassVar

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import entropy_floor, shannon_entropy, stand_in_marked

# Whole values that stand for a secret rather than being one.
_REFERENCE = re.compile(
    r"""^(?:
        \$\{?[A-Za-z_][\w.:\-]*\}?            # $VAR, ${VAR}, ${env:VAR}
      | \{\{.*\}\} | \{[\w.\-]+\} | <[^>]*>    # templates
      | %\(?[\w]*\)?s | %[\w]+%                # printf / Windows %VAR%
      | [*xX.#?\-]+                            # masks
      | (?i:none|null|nil|true|false|undefined|empty|required|optional|string|str|secret
            |password|passwd|changeme|change_me|change-me|replace_?me|todo|tbd|redacted|hidden
            |default|admin|root|test|guest|user|username|pass)
      | [A-Za-z_]+\d*(?:\.[A-Za-z_]+\d*)+       # attribute access: self.password, config.db2.pw (a token
                                               # with dots mixes letters and digits: patX9k.f0b2...)
      | [A-Za-z_]\w*\[.*                        # indexing: os.environ["X"], ENV['X']
      | (?i:(?:vault|ref|secret|op|arn|sm|ssm|awssm|gcpsm)[:+]).*  # secret-manager references
    )$""",
    re.VERBOSE,
)
# Stored password hashes are not the password.
_PASSWORD_HASH = re.compile(r"^(?:\$(?:2[abxy]?|argon2(?:id|i|d)|[156]|y|scrypt|pbkdf2[\w-]*)\$|\{S?SHA\d*\}|pbkdf2|sha\d+\$|md5\$)")
# A file system path (PWD=/home/alice in an env dump, a key file's location) names where
# something is, not a secret.
_PATH = re.compile(r"^(?:(?:~|\.{1,2})?/[\w.\-]+(?:/[\w.\-]*)*|[A-Za-z]:\\[\w .\-\\]*)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Identifier words around the secret word that make the name describe something else.
_NOT_A_SECRET_NAME = re.compile(
    r"(?:^|[_.\-]|(?<=[a-z])(?=[A-Z]))(?i:id|ids|name|arn|url|uri|path|file|filename|type|endpoint|length|len"
    r"|size|count|limit|max|min|hash|hashed|digest|sha|salt|policy|field|label|hint|header|prefix|env|var|ref"
    r"|version|expiry|expires|expiration|ttl|public|publishable|regex|pattern|format|rotation|manager|store"
    r"|provider|reset|strength|mode|enabled|required|tokens|tokenizer|usage|location|kind|csrf|xsrf|placeholder)"
    r"(?=$|[_.\-]|[A-Z])"
)
_CHAR_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"), re.compile(r"[^A-Za-z0-9]"))
# Template and format constructs inside a value (``https://${HOST}/x``, ``sk-{}``, ``{{ .Values.x }}``,
# ``<token>``, ``%(pw)s``): what is left around them must be a secret on its own. A brace, a
# bracket or a parenthesis elsewhere is a character like any other (people put them in passwords).
_TEMPLATE_PART = re.compile(r"\$\{[\w.:\-]+(?::?-[^}\s]*)?\}|\{\{[^}]*\}\}|\{[\w.\-]*\}|<[\w\s.\-]*>|%\(\w*\)[sd]|%\w+%|\$\(")
# Code where a value should be: a call or an index (``get_secret()``, ``env["X"]``, ``fs.readFileSync(``).
_CODE = re.compile(r"^[A-Za-z_$][\w.$]*\s*[(\[]")
# Said of test and example values besides the shared placeholder words ("notakey", "not_a_real_token").
_STAND_IN_WORDS = re.compile(r"fake|insert|not[_\-]?(?:a[_\-]?)?(?:real|secret|key|token)", re.IGNORECASE)
# Words joined by separators ("shorter-version", "not_set_yet"): a label, not a chosen password.
_WORD_PHRASE = re.compile(r"^[A-Za-z]+(?:[-_. ][A-Za-z]+)*$")


# A password chosen as words run together: lower case, long enough not to be one word.
_RUN_TOGETHER = re.compile(r"^[a-z]{10,64}$")
# The names only a password goes by (not "pass" or "pw", which also mean other things).
_STRONG_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "pass_phrase"})
# A value that names a password field rather than being one ("newpassword", "passwordconfirm").
_NAMES_ITSELF = re.compile(r"pass|pwd|word|secret|confirm|required|optional|hidden|input|field|label")
# A bare value ends where the code around it resumes: f(password=abc123) leaves "abc123".
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _without_unbalanced_closers(value: str) -> str:
    while value and value[-1] in _CLOSERS and value.count(value[-1]) > value.count(_CLOSERS[value[-1]]):
        value = value[:-1]
    return value


def _secret_word(name: str) -> str:
    lowered = name.lower()
    return next((w for w in _STRONG_PASSWORD_WORDS if w in lowered), "")


def _classes(value: str) -> int:
    return sum(1 for c in _CHAR_CLASSES if c.search(value))


def plausible_secret_value(value: str, min_length: int, min_entropy: float, min_classes: int) -> bool:
    """Long and random enough to be a secret, and none of the things that stand for one."""
    if (value.count(" ") >= 2                      # a sentence: a label or message, not a value
            or _REFERENCE.match(value) or _PASSWORD_HASH.match(value) or _UUID.match(value) or _CODE.match(value)
            or _PATH.match(value)
            or stand_in_marked(value) or _STAND_IN_WORDS.search(value)):
        return False
    rest = _TEMPLATE_PART.sub("", value)
    return (
        len(rest) >= min_length
        and len(set(rest)) >= 4
        and shannon_entropy(rest) >= entropy_floor(rest, min_entropy)   # hex: 3.0 (rules.py)
        and _classes(rest) >= min_classes
    )


def _assignment(secret_words: str, min_length: int) -> str:
    # The secret word, the rest of its identifier (``apikey[]``, ``dict["secret"]``), an
    # optional closing quote, then one of:
    # - an operator (not ==; ObjC's @"...", Go's []byte("...")) with blanks around it (up
    #   to 16 spaces or tabs: aligned columns), or XML's `` value=`` after a name attribute or a
    #   tag (``name="db_password" value="..."``, ``<password value="...">``), then a quoted
    #   or bare value; a bare value followed by "(" or "[" is code (a call, an index);
    # - ``>`` and an XML element's text up to its closing tag (``<password> v </password>``,
    #   ``<add name="password">v</add>``): ``find`` checks the word sits inside a tag;
    # - a comparison (==, ===, !=, !==) with a quoted value: a secret checked in code
    #   (``if password == "..."``) is written there in full;
    # - a comma and a quoted value after a quoted name that opens a call's arguments
    #   (``System.setProperty("API_TOKEN", "v")``, ``os.Setenv("DB_PASSWORD", "v")``): ``find``
    #   checks the "(";
    # - nothing or blanks and a quoted value ending a statement (``apikey "v";``);
    # - blanks and a bare value after a command-line flag (``--http-password v``): ``find``
    #   checks the identifier starts with "-".
    # Values are possessive ({m,n}+): a value that does not end where it must is given up at
    # once, not retried at every shorter length (linear time on hostile input such as
    # "password=" repeated). The match starts at the word (cheap to find); the start of the
    # identifier is found by walking back.
    quoted = rf"(?P<q>[\"'`])(?P<value>[^\"'`\r\n]{{{min_length},256}}+)(?P=q)"
    # A bare value does not open with a structure ({type: String}, [], (x)); inside it,
    # brackets are characters like any other (unbalanced closers at its end are the code's).
    bare = (rf"(?P<value>[^\s\"'`,;\[\]{{}}()<][^\s\"'`,;<]{{{min_length - 1},255}}+)"
            rf"(?![^\s\"'`,;)\]}}<])")
    return (
        rf"(?P<word>(?i:{secret_words}))(?P<tail>[\w.\-]{{0,30}})(?:\[\])?[\"'`]?\]?"
        rf"(?:(?P<op>(?:\s{{0,3}}|[ \t]{{4,16}})(?::{{1,3}}=|[.+?]=|=>|[=:])(?!=)(?:\s{{0,3}}|[ \t]{{4,16}})(?:@|\[\]byte\()?"
        rf"|\s{{1,3}}value\s{{0,3}}=\s{{0,3}})"
        rf"(?:{quoted}|{bare})"
        rf"|(?P<op>\s{{0,3}},\s{{0,3}}){quoted}"
        rf"|(?P<op>\s{{0,3}}(?:===?|!==?)\s{{0,3}}){quoted}"
        rf"|(?P<op>\s{{0,3}}>\s{{0,3}})(?P<value>[^<\r\n]{{{min_length},256}}+)(?=</)"
        rf"|(?P<op>[ \t]{{0,3}}){quoted}(?=\s{{0,3}};)"
        rf"|(?P<op>[ \t]{{1,3}}){bare})"
    )


# XML with the value before the name: ``<add value="..." name="db_password" />``; matched
# backwards from the name's secret word.
_VALUE_BEFORE_NAME = re.compile(
    r"""value\s{0,3}=\s{0,3}(?P<q>["'])(?P<value>[^"'\r\n]{4,256})(?P=q)\s{1,3}name\s{0,3}=\s{0,3}["'][\w.\-]{0,40}$""")
# Secret words that name a secret only as a whole part of the identifier (DB_PASS, sl_pw,
# dbPass, MAPBOX_KEY), not inside another word (passport, bypass, pwned, monkey, keyboard).
_WHOLE_PART_WORDS = frozenset({"pass", "pw", "key"})
# "key" alone names many things that are not secrets (a table's primary key, a cache key, a
# map's keys): a value under it must be long and random, with letters and digits, and the
# name must not say which kind of key it is.
_KEY_WORD = "key"
_NOT_A_SECRET_KEY_NAME = re.compile(
    r"(?:^|[_.\-]|(?<=[a-z])(?=[A-Z]))(?i:primary|foreign|sort|partition|cache|idempotency|object|lookup|shortcut"
    r"|index|unique|composite|row|column|map|dict|hot|hash|ssh|gpg|pgp|license|product|registry|translation|i18n|s3)"
    r"(?=$|[_.\-]|(?<=[a-z])[A-Z])"
)
_KEY_VALUE_MIN_LENGTH, _KEY_VALUE_MIN_ENTROPY = 20, 3.8
_KEY_ALPHABET = re.compile(r"^[A-Za-z0-9_\-+/=.]+$")


def _whole_part(text: str, start: int, end: int) -> bool:
    before, after = text[start - 1:start], text[end:end + 1]
    word = text[start:end]
    left = not before.isalnum() or (before.islower() and word[0].isupper())
    right = not after.isalnum() or (after.isupper() and word[-1].islower())
    return left and right


_CALL_OPENING = re.compile(r"\(\s{0,3}[\"'`]$")


def _random_key_value(name: str, value: str) -> bool:
    # Keys are drawn from URL-safe alphabets (base64, hex, base62): "$", "%", ":" ... say the
    # value is something else (a template, a path, a label).
    return (not _NOT_A_SECRET_KEY_NAME.search(name) and _KEY_ALPHABET.match(value) is not None
            and len(value) >= _KEY_VALUE_MIN_LENGTH
            and shannon_entropy(value) >= _KEY_VALUE_MIN_ENTROPY     # no hex floor: it keeps {"key": "<md5>"} out
            and any(c.isdigit() for c in value) and any(c.isalpha() for c in value))


def _in_tag(text: str, position: int) -> bool:
    """Whether ``position`` lies inside an XML tag: a "<" after the last ">" on its line."""
    line_start = text.rfind("\n", 0, position) + 1
    return text.rfind("<", line_start, position) > text.rfind(">", line_start, position)


_IDENTIFIER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _identifier_around(text: str, match) -> tuple[str, str]:
    """The whole identifier the secret word sits in (DB_PASSWORD, spring.datasource.password)
    and the character before it."""
    start = match.start()
    floor = max(0, start - 40)
    while start > floor and text[start - 1] in _IDENTIFIER_CHARS:
        start -= 1
    return text[start:match.start("tail")] + match.group("tail"), text[start - 1:start]


class _AssignmentRecognizer(SecretRecognizer):
    """``<name> = <value>`` where the name says secret and the value looks like one."""

    # The secret words, lower-case ASCII: the regex starts with one of them, and the
    # scan looks for them with plain substring search (far cheaper than a case-insensitive
    # alternation tried at every position), then matches only where one occurs.
    secret_words: ClassVar[tuple[str, ...]] = ()
    min_length: ClassVar[int] = 8
    min_entropy: ClassVar[float] = 3.0
    min_classes: ClassVar[int] = 2
    # Passwords are chosen by people: a single word ("Passwort", a translation) is a label;
    # a digit or a symbol is what makes it a password.
    needs_digit_or_symbol: ClassVar[bool] = False

    # The keywords are fragments of the secret words: a word starts a few characters
    # before a keyword occurrence and ends within a word's length after it.
    reach_before = 8
    reach_after = 32

    def _word_positions(self, text: str, near: list[int] | None) -> list[int]:
        positions = set()
        for start, end in self.windows(text, near):
            # ASCII bytes, one per character (anything else becomes "?"): offsets stay valid.
            folded = text[start:end].encode("ascii", "replace").lower()
            for word in self.secret_words:
                i = folded.find(word.encode())
                while i >= 0:
                    positions.add(start + i)
                    i = folded.find(word.encode(), i + 1)
        return sorted(positions)

    def _plausible(self, value: str, word: str = "") -> bool:
        if value in self.denylist:
            return False
        if self.needs_digit_or_symbol and _WORD_PHRASE.match(value):
            # Words run together in lower case ("ilikespaces") under a name that can only
            # mean a password are a chosen password; a single word or a label is not.
            return (word in _STRONG_PASSWORD_WORDS and _RUN_TOGETHER.match(value) is not None
                    and not _NAMES_ITSELF.search(value)
                    and plausible_secret_value(value, self.min_length, self.min_entropy, 1))
        return plausible_secret_value(value, self.min_length, self.min_entropy, self.min_classes)

    def _operator_fits(self, text: str, match, name: str) -> bool:
        """The forms whose operator alone does not say "assignment" need their context."""
        op = match.group("op")
        if op.strip() == ">" or "value" in op:
            return _in_tag(text, match.start())            # XML: the name is a tag or an attribute
        if op.strip() == ",":                              # f("NAME", "value"): the name opens the call
            start = match.start() - len(name) + len(match.group("word")) + len(match.group("tail"))
            return _CALL_OPENING.search(text, max(0, start - 8), start) is not None
        if not op.strip() and match.group("q") is None:
            return name.startswith("-") and bool(op)       # a command-line flag and its value
        return True

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found: dict[tuple[int, int], float] = {}
        positions = self._word_positions(text, near)
        for pattern, score in self._compiled:
            for position in positions:
                match = pattern.match(text, position)
                if match is None:
                    self._value_before_name(text, position, score, found)
                    continue
                word = match.group("word").lower()
                if word in _WHOLE_PART_WORDS and not _whole_part(text, *match.span("word")):
                    continue
                if not self._accept(text, match, word, score, found):
                    # <tag value="..." name="the_password">text</tag>: the element's text was
                    # not it; the attribute before the name may be.
                    self._value_before_name(text, position, score, found)
        return [(start, end, score) for (start, end), score in found.items()]

    def _accept(self, text: str, match, word: str, score: float, found: dict) -> bool:
        value = _without_unbalanced_closers(match.group("value").strip()) if match.group("q") is None \
            else match.group("value").strip()
        name, before = _identifier_around(text, match)
        if word == _KEY_WORD and not _random_key_value(name, value):
            return False
        # ${PASSWORD:-default}: a reference with its default, not an assignment (PHP's
        # $password = "..." is one).
        if before == "{" or _NOT_A_SECRET_NAME.search(name) or not self._operator_fits(text, match, name):
            return False
        if not self._plausible(value, word):
            return False
        start = match.start("value") + match.group("value").index(value)
        # "secret_token = x" matches at both words: one finding.
        found[(start, start + len(value))] = score
        return True

    def _value_before_name(self, text: str, position: int, score: float, found: dict) -> None:
        """``<add value="..." name="db_password" />``: the value precedes the name."""
        window_start = max(0, position - 300)
        match = _VALUE_BEFORE_NAME.search(text, window_start, position)
        if match is None:
            return
        name_end = position
        while name_end < len(text) and text[name_end] in _IDENTIFIER_CHARS:
            name_end += 1
        name = text[match.end():name_end]
        value = match.group("value").strip()
        if _NOT_A_SECRET_NAME.search(name) or not self._plausible(value, _secret_word(name)):
            return
        start = match.start("value") + match.group("value").index(value)
        found[(start, start + len(value))] = score


# Longest first: the alternation takes the first word that matches at a position.
_PASSWORD_WORDS = ("password", "passwd", "passwort", "passphrase", "pass_phrase", "pwd", "pass", "pw")
# "token" also stands for access_token, auth_token ...: the whole identifier is checked.
_SECRET_WORDS = ("secret", "api_key", "apikey", "api-key", "token", "access_key", "accesskey", "private_key",
                 "privatekey", "signing_key", "signingkey", "encryption_key", "encryptionkey", "master_key",
                 "masterkey", "credential", "key")


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in words)


class PasswordAssignmentRecognizer(_AssignmentRecognizer):
    entity_type = "PASSWORD_ASSIGNMENT"
    reason = "Password in a config file or code"
    secret_words = _PASSWORD_WORDS
    patterns = ((_assignment(_alternation(_PASSWORD_WORDS), 6), 0.75),)
    # Fragments without the first letter match Password, password and camelCase dbPassword.
    keywords = ("assword", "ASSWORD", "assWord", "asswd", "ASSWD", "pwd", "PWD", "Pwd", "assphrase", "ASSPHRASE",
                "assPhrase", "ass_phrase", "ASS_PHRASE", "asswort", "ASSWORT", "pass", "PASS", "Pass", "pw", "PW", "Pw")
    min_length = 6
    min_entropy = 2.3
    needs_digit_or_symbol = True


class SecretAssignmentRecognizer(_AssignmentRecognizer):
    entity_type = "SECRET_ASSIGNMENT"
    reason = "API key, token or secret in a config file or code"
    secret_words = _SECRET_WORDS
    patterns = ((_assignment(_alternation(_SECRET_WORDS), 16), 0.7),)
    keywords = ("ecret", "ECRET", "pi_key", "PI_KEY", "piKey", "pikey", "PIKEY", "pi-key", "PI-KEY", "pi_Key",
                "oken", "OKEN", "ccess_key", "CCESS_KEY", "ccessKey", "ccesskey", "rivate_key", "RIVATE_KEY",
                "rivateKey", "rivatekey", "igning_key", "IGNING_KEY", "igningKey", "ncryption_key", "NCRYPTION_KEY",
                "ncryptionKey", "aster_key", "ASTER_KEY", "asterKey", "redential", "REDENTIAL", "key", "KEY", "Key")
    min_length = 16
    min_entropy = 3.5


class ConnectionStringPasswordRecognizer(SecretRecognizer):
    entity_type = "CONNECTION_STRING_PASSWORD"
    reason = "Password in a database connection string"
    # ADO.NET / ODBC / JDBC-properties style: key=value pairs separated by ";", one of
    # them naming a server, one a password.
    # Keys and values of the other pairs hold no "=" or ";": one way to split, no backtracking.
    _pair = r"[^;\r\n\"'=]{1,40}=[^;\r\n\"'=]{0,200};"
    patterns = (
        (rf"(?i:server|data source|host|address|addr|network address|datasource|hostname)\s*=[^;\r\n\"'=]{{1,200}};"
         rf"(?:\s*{_pair}){{0,10}}?\s*(?i:password|pwd)\s*=\s*(?P<value>[^;\r\n\"']{{1,128}})", 0.9),
        (rf"(?i:password|pwd)\s*=\s*(?P<value>[^;\r\n\"']{{1,128}}+);(?:\s*{_pair}){{0,10}}?"
         rf"\s*(?i:server|data source|host|address|addr|network address|datasource|hostname)\s*=", 0.9),
    )
    keywords = ("assword", "ASSWORD", "wd", "WD")
    # Up to ten key=value pairs can stand between the server and the password.
    reach_before = 3000
    reach_after = 3000

    def is_valid(self, value: str) -> bool:
        value = value.strip()
        return plausible_secret_value(value, min_length=4, min_entropy=1.5, min_classes=1)


class UrlPasswordRecognizer(SecretRecognizer):
    entity_type = "URL_PASSWORD"
    reason = "Password in a URL"
    # Database URLs are DB_CONNECTION_URL and DB_PASSWORD (db_connection_url.py); these are the other schemes.
    patterns = (
        (r"(?<![A-Za-z0-9+.\-])(?:https?|ftps?|sftp|smtps?|imaps?|pop3s?|ldaps?|ssh|git|svn|rtsp|wss?|nats|mqtts?|sip)"
         r"://(?P<user>[^\s:/@'\"<>]{1,64}):(?P<password>[^\s@/'\"<>]{1,128})@[A-Za-z0-9.\-]+(?::\d+)?", 0.85),
    )
    keywords = ("://",)
    reach_before = 16

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        if "@" not in text:
            return []
        found = []
        for match, score in self.matches(text, near):
            password = match.group("password")
            if not plausible_secret_value(password, min_length=4, min_entropy=1.5, min_classes=1):
                continue
            found.append((match.start(), match.end(), score))
        return found
