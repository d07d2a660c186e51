"""Credentials in the config files of everyday tools: ``.netrc`` (machine / login /
password), Docker's ``config.json`` (base64 ``user:password`` under ``auths``) and Ansible
inventories and vars (``ansible_password``, ``ansible_become_pass`` …).

Ansible's vault references (``{{ vault_db_pass }}``, ``!vault |``) are not values.
"""
from __future__ import annotations

from shadowmap.detectors.recognizers.base import SecretRecognizer
from shadowmap.detectors.recognizers.secrets.http_auth import credential_like
from shadowmap.detectors.recognizers.secrets.rules import b64decode_loose


class NetrcPasswordRecognizer(SecretRecognizer):
    entity_type = "NETRC_PASSWORD"
    reason = "Password in a .netrc file"
    # "machine host [login user] [account x] password secret", on one line or several.
    patterns = ((r"(?<![\w])machine\s+\S+(?:\s+(?:login|account)\s+\S+){0,2}\s+password\s+(?P<value>\S{1,256})", 0.9),)
    keywords = ("machine",)
    reach_before = 0
    reach_after = 600

    def is_valid(self, value: str) -> bool:
        return credential_like(value, min_length=4)


class DockerConfigAuthRecognizer(SecretRecognizer):
    entity_type = "DOCKER_CONFIG_AUTH"
    reason = "Registry credential in a Docker config.json"
    patterns = ((r"\"(?:auth|identitytoken)\"\s*:\s*\"(?P<value>[A-Za-z0-9+/=_.\-]{8,4096})\"", 0.9),)
    keywords = ('"auth"', '"identitytoken"')
    reach_before = 0
    reach_after = 4200

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        if '"auths"' not in text:
            return []
        return super().find(text, near)

    def is_valid(self, value: str) -> bool:
        decoded = b64decode_loose(value)
        if decoded is None:       # an identity token is opaque
            return credential_like(value, min_length=16)
        user, colon, password = decoded.decode("utf-8", "replace").partition(":")
        return bool(colon) and credential_like(password, min_length=4)


class AnsiblePasswordRecognizer(SecretRecognizer):
    entity_type = "ANSIBLE_PASSWORD"
    reason = "Password in Ansible inventory or vars"
    patterns = ((r"(?<![\w])ansible_(?:ssh_|become_|sudo_|su_|winrm_)?pass(?:word)?[ \t]*[:=][ \t]*"
                 r"(?P<q>[\"']?)(?P<value>[^\s\"']{1,256})(?P=q)", 0.85),)
    keywords = ("ansible_",)
    reach_before = 0
    reach_after = 320

    def is_valid(self, value: str) -> bool:
        return not value.startswith(("{{", "!vault", "lookup(")) and credential_like(value, min_length=4)
