"""AWS access key ids (long-term AKIA, temporary ASIA, and the other key-id prefixes)."""
from __future__ import annotations

from detectors.recognizers.base import SecretRecognizer, looks_like_placeholder


class AwsAccessKeyRecognizer(SecretRecognizer):
    entity_type = "AWS_ACCESS_KEY"
    reason = "AWS access key"
    # Key ids are a 4-letter prefix + 16 base32 characters (A-Z, 2-7); the prefix is the
    # key kind. Boundaries exclude letters/digits so a longer token is not cut into one.
    patterns = (
        (r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])", 0.95),
    )
    keywords = ("AKIA", "ASIA", "ABIA", "ACCA", "A3T")
    # Examples printed in AWS documentation and SDK READMEs.
    denylist = frozenset({
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "ASIAIOSFODNN7EXAMPLE",
        "AKIAEXAMPLEEXAMPLE12",
    })

    def is_valid(self, value: str) -> bool:
        # Documentation examples end in EXAMPLE; a run like AKIAXXXXXXXXXXXXXXXX is a mask.
        return not value.endswith("EXAMPLE") and not looks_like_placeholder(value[4:])
