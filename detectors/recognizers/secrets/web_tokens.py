"""JSON Web Tokens: a bearer credential for as long as it has not expired."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, b64_json


class JwtRecognizer(TokenRecognizer):
    entity_type = "JWT"
    reason = "JSON Web Token (bearer credential)"
    # header.payload.signature, each base64url; both JSON parts start with '{"' = "eyJ".
    patterns = ((r"(?<![A-Za-z0-9_\-.])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{16,}(?![A-Za-z0-9_\-.])", 0.9),)
    keywords = ("eyJ",)
    reach_after = 16_384   # claims can run to kilobytes
    min_entropy = 4.0

    def check(self, value: str) -> bool:
        header_b64, payload_b64, _signature = value.split(".")
        header = b64_json(header_b64)
        # A signed token: its header names the algorithm; "none" means nothing is signed.
        return (
            header is not None
            and isinstance(header.get("alg"), str)
            and header["alg"].lower() != "none"
            and b64_json(payload_b64) is not None
        )
