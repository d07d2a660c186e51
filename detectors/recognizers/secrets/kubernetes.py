"""Kubernetes credentials: values under ``data:`` / ``stringData:`` of a ``kind: Secret``
manifest, and a kubeconfig's user ``token:`` and ``client-key-data:``.

Only ``kind: Secret`` (not ExternalSecret, SealedSecret or SopsSecret, whose data is a
reference or ciphertext); only values long enough to hold something (``YmFyCg==`` is
"bar"); templates (``{{ .Values.x }}``) and empty strings are not values.
"""
from __future__ import annotations

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.rules import b64decode_loose, is_placeholder, shannon_entropy

_SECRET_KIND = re.compile(r"^[ \t]*kind:[ \t]*[\"']?(?i:secret)[\"']?[ \t]*$", re.MULTILINE)
_DATA_KEY = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$", re.MULTILINE)
# One entry of the data map: a key, then a value on the line or in a block scalar (| or >).
_ENTRY = re.compile(r"^(?P<indent>[ \t]+)(?:#.*|(?P<key>[\w.\-]+):[ \t]*(?:(?:[|>][\-+]?)[ \t]*\r?\n[ \t]+)?"
                    r"[\"']?(?P<value>[^\s\"'#]*)[\"']?)[ \t]*$", re.MULTILINE)
MIN_DATA_CHARS = 10
# A manifest's data block is read this far; a Secret's data is a few KB at most.
MAX_DATA_CHARS = 20_000


def _block_end(text: str, start: int, indent: int) -> int:
    """Where the block of lines indented deeper than ``indent`` ends: at the first line
    that is not (the next key, a "---" document separator), or MAX_DATA_CHARS on."""
    limit = min(len(text), start + MAX_DATA_CHARS)
    position = start
    while position < limit:
        line_end = text.find("\n", position, limit)
        line_end = limit if line_end < 0 else line_end
        line = text[position:line_end].expandtabs(4)
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            return position
        position = line_end + 1
    return limit


class KubernetesSecretDataRecognizer(SecretRecognizer):
    entity_type = "KUBERNETES_SECRET_DATA"
    reason = "Value of a Kubernetes Secret manifest"
    # Matches are found by reading the manifest's structure (find below); the pattern is
    # what the registry requires of a declared recognizer.
    patterns = ((r"kind:[ \t]*[\"']?(?i:secret)", 0.85),)
    keywords = ("Secret", "secret", "SECRET")
    score = 0.85

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        if not _SECRET_KIND.search(text):
            return []
        found = []
        for block in _DATA_KEY.finditer(text):
            indent = len(block.group("indent").expandtabs(4))
            end = _block_end(text, block.end() + 1, indent)
            for entry in _ENTRY.finditer(text, block.end() + 1, end):
                value = entry.group("value")
                if value is None or len(value) < MIN_DATA_CHARS or "{{" in value or is_placeholder(value, 4):
                    continue
                found.append((entry.start("value"), entry.end("value"), self.score))
        return found


class KubeconfigCredentialRecognizer(SecretRecognizer):
    entity_type = "KUBECONFIG_CREDENTIAL"
    reason = "Kubeconfig user token or client key"
    patterns = ((r"(?:^|[ \t])(?:client-key-data|token|id-token|refresh-token):[ \t]*[\"']?"
                 r"(?P<value>[A-Za-z0-9+/=_.\-]{20,8192})[\"']?[ \t]*$", 0.9),)
    keywords = ("client-key-data", "token:")
    reach_before = 32
    reach_after = 8300
    flags = re.MULTILINE

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        # A kubeconfig: its users section, or the key data only kubeconfigs carry.
        if "client-key-data" not in text and not ("users:" in text and "user:" in text):
            return []
        return super().find(text, near)

    def is_valid(self, value: str) -> bool:
        return not is_placeholder(value, 8) and shannon_entropy(value) >= 3.5


class EncodedPrivateKeyRecognizer(SecretRecognizer):
    entity_type = "BASE64_PRIVATE_KEY"
    reason = "Base64-encoded private key"
    # "-----BEGIN" in base64 starts "LS0tLS1CRUdJTi"; what follows must decode to a private key.
    patterns = ((r"(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,20000}={0,2}", 0.95),)
    keywords = ("LS0tLS1CRUdJTi",)
    reach_before = 0
    reach_after = 20100

    def is_valid(self, value: str) -> bool:
        head = b64decode_loose(value[:len(value) - len(value) % 4])
        return head is not None and b"PRIVATE KEY" in head[:80]
