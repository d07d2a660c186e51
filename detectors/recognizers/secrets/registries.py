"""Package registries: npm, PyPI, RubyGems, NuGet, Docker Hub. A publish token here lets
anyone ship code as the company."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, b64decode_loose, has_github_checksum


class NpmTokenRecognizer(TokenRecognizer):
    entity_type = "NPM_TOKEN"
    reason = "npm access token"
    patterns = ((r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("npm_",)
    prefix_chars = 4
    min_distinct = 12

    def check(self, value: str) -> bool:
        # npm adopted GitHub's format: 30 random characters + their CRC32 in base62.
        return has_github_checksum(value)


class PypiTokenRecognizer(TokenRecognizer):
    entity_type = "PYPI_TOKEN"
    reason = "PyPI upload token"
    # A macaroon whose base64 starts with its location, pypi.org or test.pypi.org.
    patterns = ((r"(?<![A-Za-z0-9_\-])pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("pypi-AgE",)
    reach_after = 2048
    prefix_chars = 20
    min_entropy = 4.0

    def check(self, value: str) -> bool:
        # Decoding the first block must give the macaroon's location field back, and a whole
        # token ends with the macaroon's signature field (type 6, 32 bytes; the v2 binary
        # format): a token cut short before it cannot be used.
        # A body that is not laid out as macaroon fields after the location is matched by
        # the prefix alone (the format scanners document: the prefix and 50+ characters).
        head = b64decode_loose(value[5:5 + 24])
        whole = b64decode_loose(value[5:])
        if head is None or b"pypi.org" not in head:
            return False
        if whole is None:
            return True
        location_end = whole.find(b"pypi.org") + len(b"pypi.org")
        structured = whole[location_end:location_end + 1] == b"\x02"
        return not structured or whole[-34:-32] == b"\x06\x20"


class RubygemsApiKeyRecognizer(TokenRecognizer):
    entity_type = "RUBYGEMS_API_KEY"
    reason = "RubyGems API key"
    patterns = ((r"(?<![A-Za-z0-9_])rubygems_[a-f0-9]{48}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("rubygems_",)
    prefix_chars = 9
    min_entropy = 3.3


class NugetApiKeyRecognizer(TokenRecognizer):
    entity_type = "NUGET_API_KEY"
    reason = "NuGet API key"
    patterns = ((r"(?<![A-Za-z0-9_])oy2[a-z0-9]{43}(?![A-Za-z0-9_])", 0.9),)
    keywords = ("oy2",)
    prefix_chars = 3
    min_entropy = 3.8


class DockerHubTokenRecognizer(TokenRecognizer):
    entity_type = "DOCKERHUB_TOKEN"
    reason = "Docker Hub access token"
    patterns = ((r"(?<![A-Za-z0-9_\-])dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,36}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("dckr_pat_", "dckr_oat_")
    prefix_chars = 9
    min_entropy = 3.6
