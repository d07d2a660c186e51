"""The `collector serve` options of console single sign-on (OpenID Connect), turned into one
OidcSettings (shadowmap.collector.oidc_settings) passed to the command as ``oidc`` (None
without --oidc-issuer). The client secret comes from a file or the environment, never the
command line (where every local user could read it in the process list)."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from shadowmap.collector.oidc_settings import (
    DEFAULT_ALGORITHMS,
    DEFAULT_SCOPES,
    TOKEN_AUTH_METHODS,
    OidcSettings,
    OidcSettingsError,
    parse_role_map,
)

F = TypeVar("F", bound=Callable[..., Any])
CLIENT_SECRET_ENV = "SHADOWMAP_OIDC_CLIENT_SECRET"

_OPTIONS = [
    click.option("--oidc-issuer", default=None, metavar="URL",
                 help="Console single sign-on: the OpenID provider's issuer (its discovery document is at "
                      "URL/.well-known/openid-configuration). The other --oidc-* options need it."),
    click.option("--oidc-client-id", default=None, help="The client id registered at the provider."),
    click.option("--oidc-client-secret-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                 default=None, help=f"A file holding the client secret (its first line); else ${CLIENT_SECRET_ENV}."),
    click.option("--oidc-redirect-url", default=None, metavar="URL",
                 help="The callback URL registered at the provider (https://HOST/auth/oidc/callback). Default: "
                      "derived from each request (scheme from TLS or a trusted proxy, host from the Host header)."),
    click.option("--oidc-scope", "oidc_scopes", multiple=True, metavar="SCOPE",
                 help=f"A scope to ask for; repeat for several (default: {' '.join(DEFAULT_SCOPES)})."),
    click.option("--oidc-groups-claim", default="groups", show_default=True,
                 help="The claim listing the user's groups (ID token, else userinfo)."),
    click.option("--oidc-username-claim", default="email", show_default=True,
                 help="The claim that names the console account (email, preferred_username, ...)."),
    click.option("--oidc-role", "oidc_roles", multiple=True, metavar="GROUP=ROLE",
                 help="A group (as the groups claim spells it) and the console role it gives (viewer, analyst, "
                      "admin); repeat for several. A user in no mapped group is refused."),
    click.option("--oidc-provider-name", default="single sign-on", show_default=True,
                 help="The name on the login page's button (Sign in with NAME)."),
    click.option("--oidc-token-auth", type=click.Choice(TOKEN_AUTH_METHODS), default=TOKEN_AUTH_METHODS[0],
                 show_default=True, help="How the collector authenticates to the provider's token endpoint."),
    click.option("--oidc-algorithm", "oidc_algorithms", multiple=True, metavar="ALG",
                 help=f"An ID token signature algorithm to accept; repeat for several (default: "
                      f"{' '.join(DEFAULT_ALGORITHMS)}; never none or HS*)."),
    click.option("--local-passwords/--no-local-passwords", default=True, show_default=True,
                 help="With single sign-on: whether console accounts may still sign in with a password."),
]
_NAMES = ("oidc_issuer", "oidc_client_id", "oidc_client_secret_file", "oidc_redirect_url", "oidc_scopes",
          "oidc_groups_claim", "oidc_username_claim", "oidc_roles", "oidc_provider_name", "oidc_token_auth",
          "oidc_algorithms", "local_passwords")


def read_client_secret(path: Path | None) -> str:
    if path is not None:
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[0].strip() if lines else ""
    return os.environ.get(CLIENT_SECRET_ENV, "").strip()


def settings_from_options(values: dict[str, Any]) -> OidcSettings | None:
    if not values["oidc_issuer"]:
        given = [name for name in _NAMES if name.startswith("oidc_") and values[name] not in (None, (), "")
                 and name not in ("oidc_groups_claim", "oidc_username_claim", "oidc_provider_name", "oidc_token_auth")]
        if given or not values["local_passwords"]:
            raise click.UsageError("single sign-on options need --oidc-issuer")
        return None
    try:
        return OidcSettings(
            issuer=values["oidc_issuer"], client_id=values["oidc_client_id"] or "",
            client_secret=read_client_secret(values["oidc_client_secret_file"]),
            role_map=parse_role_map(values["oidc_roles"]), redirect_url=values["oidc_redirect_url"],
            scopes=tuple(values["oidc_scopes"]) or DEFAULT_SCOPES, groups_claim=values["oidc_groups_claim"],
            username_claim=values["oidc_username_claim"], provider_name=values["oidc_provider_name"],
            token_auth_method=values["oidc_token_auth"],
            algorithms=tuple(values["oidc_algorithms"]) or DEFAULT_ALGORITHMS,
            local_passwords=values["local_passwords"])
    except OidcSettingsError as exc:
        raise click.UsageError(f"single sign-on: {exc}") from None


def oidc_options(command: F) -> F:
    """The --oidc-* options and --local-passwords, given to ``command`` as one ``oidc``
    keyword (OidcSettings or None). Put it nearest the function, below the other options."""
    @functools.wraps(command)
    def with_settings(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _NAMES}
        return command(*args, oidc=settings_from_options(values), **kwargs)

    decorated: Any = with_settings
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return cast(F, decorated)
