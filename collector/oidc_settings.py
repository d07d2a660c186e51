"""What the console's single sign-on (OpenID Connect) is configured with, checked once at
start: the provider (issuer), the client registered there, which claims name the user and
carry their groups, and which group gives which console role. The flow itself is
shadowmap.collector.console.oidc; the `serve` options that fill this are in
shadowmap.collector.oidc_cli."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shadowmap.collector.store.sqlite.accounts import ROLES  # the console's roles, least first

TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# Asymmetric signatures only: never "none", and no HS* (a MAC keyed with the client secret
# proves nothing the client could not have made itself).
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256")
DEFAULT_SCOPES = ("openid", "email", "profile")


class OidcSettingsError(ValueError):
    """These single sign-on settings cannot work; the message says why."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(name: str, url: str, bare: bool = True) -> None:
    """An https URL (http only on loopback); ``bare``: without query or fragment."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OidcSettingsError(f"{name} must be an https:// URL, not {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise OidcSettingsError(f"{name} must use https (plain http only on loopback, for tests): {url!r}")
    if bare and (parts.query or parts.fragment):
        raise OidcSettingsError(f"{name} must have no query or fragment: {url!r}")


@dataclass(frozen=True)
class OidcSettings:
    issuer: str                       # exactly as the provider's discovery document spells it
    client_id: str
    client_secret: str = field(repr=False)
    # From group (as the groups claim spells it) to console role; the highest role of a user's groups wins.
    role_map: tuple[tuple[str, str], ...] = ()
    # Where the provider sends the browser back; None: derived from each request
    # (scheme from TLS or a trusted proxy, host from the Host header) + /auth/oidc/callback.
    redirect_url: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    groups_claim: str = "groups"
    username_claim: str = "email"     # the console username of an account made by sign-on
    provider_name: str = "single sign-on"  # on the login page's button
    token_auth_method: str = "client_secret_basic"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    local_passwords: bool = True      # False: the login form's passwords are refused, SSO only
    clock_skew_seconds: int = 120

    def __post_init__(self) -> None:
        check_url("the issuer", self.issuer)
        if self.redirect_url is not None:
            check_url("the redirect URL", self.redirect_url)
        if not self.client_id:
            raise OidcSettingsError("a client id is needed")
        if not self.client_secret:
            raise OidcSettingsError("a client secret is needed (a file or the environment)")
        if "openid" not in self.scopes:
            raise OidcSettingsError("the scopes must include openid")
        if self.token_auth_method not in TOKEN_AUTH_METHODS:
            raise OidcSettingsError(f"token auth method must be one of {', '.join(TOKEN_AUTH_METHODS)}")
        unsupported = [alg for alg in self.algorithms if alg not in SIGNING_ALGORITHMS]
        if unsupported or not self.algorithms:
            raise OidcSettingsError(f"ID token algorithms must be among {', '.join(SIGNING_ALGORITHMS)}")
        if not self.role_map:
            raise OidcSettingsError("map at least one group to a role (GROUP=ROLE)")
        for group, role in self.role_map:
            if not group or role not in ROLES:
                raise OidcSettingsError(f"{group}={role}: the role must be one of {', '.join(ROLES)}")

    def role_for(self, groups: list[str]) -> str | None:
        """The highest role any of ``groups`` maps to; None when none is mapped."""
        roles = [role for group, role in self.role_map if group in groups]
        return max(roles, key=ROLES.index) if roles else None


def parse_role_map(pairs: tuple[str, ...] | list[str]) -> tuple[tuple[str, str], ...]:
    """``GROUP=ROLE`` strings (a group may itself hold '='; the role is after the last one)."""
    parsed = []
    for pair in pairs:
        group, sep, role = pair.rpartition("=")
        if not sep or not group:
            raise OidcSettingsError(f"{pair!r}: expected GROUP=ROLE")
        parsed.append((group, role.strip()))
    return tuple(parsed)
