"""PEM / OpenSSH / PGP private key blocks. Public keys and certificates are not secrets."""
from __future__ import annotations

import regex as re

from detectors.recognizers.base import SecretRecognizer

_BASE64_BODY = re.compile(r"[A-Za-z0-9+/=]")
# Below this much key material the block is an elided example ("...", "<your key>").
_MIN_KEY_CHARS = 64


class PrivateKeyRecognizer(SecretRecognizer):
    entity_type = "PRIVATE_KEY"
    reason = "Private key"
    # A whole block when its END line is there; otherwise (a truncated paste) the header
    # and the base64 lines that follow it. The kind (RSA, EC, OPENSSH, ENCRYPTED, DSA, PGP
    # ... BLOCK) must match between BEGIN and END.
    patterns = (
        (
            r"-----BEGIN (?P<kind>(?:[A-Z0-9]+ )*)PRIVATE KEY(?P<blk>(?: BLOCK)?)-----"
            r"(?:[\s\S]{1,20000}?-----END (?P=kind)PRIVATE KEY(?P=blk)-----"
            r"|(?:\r?\n[ \t]*(?:[A-Za-z0-9+/=]+|[A-Za-z\-]+:[^\r\n]*)?[ \t]*)+)",
            1.0,
        ),
    )
    keywords = ("PRIVATE KEY",)

    def is_valid(self, value: str) -> bool:
        header_end = value.find("-----", 11) + 5
        body = value[header_end:]
        end = body.find("-----END")
        if end >= 0:
            body = body[:end]
        return len(_BASE64_BODY.findall(body)) >= _MIN_KEY_CHARS
