"""JSON Web Tokens: a bearer credential for as long as it has not expired."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, b64_json


class JwtRecognizer(TokenRecognizer):
    entity_type = "JWT"
    reason = "JSON Web Token (bearer credential)"
    # header.payload.signature, each base64url; both JSON parts start with '{"' = "eyJ".
    patterns = (
        (r"(?<![A-Za-z0-9_\-.])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{16,}(?![A-Za-z0-9_\-.])", 0.9),
        # header.payload without its signature part (cut off, or left out when pasted):
        # still the claims of a bearer token.
        (r"(?<![A-Za-z0-9_\-.])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{4,}(?![A-Za-z0-9_\-.])", 0.85),
    )
    keywords = ("eyJ",)
    reach_after = 16_384   # claims can run to kilobytes
    min_entropy = 4.0

    def check(self, value: str) -> bool:
        parts = value.split(".")
        header, payload = b64_json(parts[0]), b64_json(parts[1])
        if header is None or payload is None:
            return False
        if len(parts) == 2:
            # Without a signature the header alone says it is a JWT: its "alg" or "typ".
            return isinstance(header.get("alg"), str) or str(header.get("typ", "")).upper() == "JWT"
        # A signed token: its header names the algorithm; "none" means nothing is signed.
        return isinstance(header.get("alg"), str) and header["alg"].lower() != "none"
