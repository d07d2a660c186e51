"""Private keys: PEM / OpenSSH / PGP blocks and PuTTY key files. Public keys and
certificates are not secrets."""
from __future__ import annotations

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import PLACEHOLDER_WORDS

_BASE64_CHAR = re.compile(r"[A-Za-z0-9+/=]")
# What stands for a key body in documentation: an elision, a placeholder, a template.
_ELIDED = re.compile(r"\.\.\.|…|[<>{}*]|-----|" + PLACEHOLDER_WORDS.pattern, re.IGNORECASE)
# Below this much key material the block is an elided example ("...", "<your key>").
_MIN_KEY_CHARS = 64


def _enough_key_material(body: str, minimum: int = _MIN_KEY_CHARS) -> bool:
    return len(_BASE64_CHAR.findall(body)) >= minimum


class PrivateKeyRecognizer(SecretRecognizer):
    entity_type = "PRIVATE_KEY"
    reason = "Private key"
    # A whole block when its END line is there; otherwise (a truncated paste) the header
    # and the base64 lines that follow it. The kind (RSA, EC, OPENSSH, ENCRYPTED, DSA, PGP
    # ... BLOCK) must match between BEGIN and END. Possessive quantifiers (*+, ++) keep
    # the scan linear on hostile input (thousands of headers, no key).
    patterns = (
        (
            r"-----BEGIN (?P<kind>(?:[A-Z0-9]+ )*)PRIVATE KEY(?P<blk>(?: BLOCK)?)-----"
            r"(?:[\s\S]{1,20000}?-----END (?P=kind)PRIVATE KEY(?P=blk)-----"
            r"|(?:\r?\n[ \t]*+(?:[A-Za-z0-9+/=]++|[A-Za-z\-]++:[^\r\n]*+)?[ \t]*+)+)",
            1.0,
        ),
        # The header on its own line and the line under it, whatever that line holds: a key
        # pasted through something that mangled its base64 is still a private key pasted.
        (r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[ \t]*+\r?\n[ \t]*+[^\s\-][^\r\n]{7,199}", 1.0),
    )
    keywords = ("PRIVATE KEY",)
    reach_after = 20_200   # the END line is looked for this far

    def is_valid(self, value: str) -> bool:
        header_end = value.find("-----", 11) + 5
        body = value[header_end:]
        end = body.find("-----END")
        if _enough_key_material(body[:end] if end >= 0 else body):
            return True
        # Little base64: a key only when the line under the header is something, not an
        # elision or a placeholder ("...", "<your key here>", "MIIE...", "xxxx").
        first_line = body.lstrip(" \t\r\n").split("\n", 1)[0].strip()
        return len(first_line) >= 8 and _ELIDED.search(first_line) is None


class PuttyPrivateKeyRecognizer(SecretRecognizer):
    entity_type = "PUTTY_PRIVATE_KEY"
    reason = "PuTTY private key file"
    # The file from its first line through the private lines (and their MAC when present),
    # line by line as PuTTYgen writes it (v2, v3, and v3's Argon2 lines when encrypted).
    patterns = (
        (
            r"PuTTY-User-Key-File-[23]: [^\r\n]++\r?\nEncryption: [^\r\n]*+\r?\nComment: [^\r\n]*+"
            r"\r?\nPublic-Lines: \d+(?:\r?\n[A-Za-z0-9+/=]++)+"
            r"(?:\r?\n(?:Key-Derivation|Argon2-[A-Za-z]+): [^\r\n]*+)*\r?\nPrivate-Lines: \d+"
            r"(?P<private>(?:\r?\n[A-Za-z0-9+/=]+(?=\r?$))+)(?:\r?\nPrivate-MAC: [0-9a-fA-F]+)?",
            1.0,
        ),
    )
    keywords = ("PuTTY-User-Key-File-",)
    reach_after = 16_384

    def is_valid(self, value: str) -> bool:
        private = value.split("Private-Lines:", 1)[1].split("Private-MAC:", 1)[0]
        # An Ed25519 key's private part is one line of 48 characters.
        return _enough_key_material(private.split("\n", 1)[-1], minimum=40)
