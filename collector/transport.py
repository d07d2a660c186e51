"""How the collector is reached: HTTPS of its own (`serve --tls-cert/--tls-key`), or behind
a TLS-terminating proxy named with `--trusted-proxy CIDR`, whose X-Forwarded-Proto and
X-Forwarded-For are believed from that proxy only (from anyone else they are ignored). A
request that came over HTTPS, either way, gets Secure cookies and HSTS
(shadowmap.collector.middlewares)."""
from __future__ import annotations

import contextlib
import ipaddress
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from aiohttp import web

from shadowmap.collector.state import CONFIG

F = TypeVar("F", bound=Callable[..., Any])


def serve_options(command: F) -> F:
    """`--tls-cert`, `--tls-key`, `--trusted-proxy` (passed on as config fields)."""
    command = click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="CIDR",
                           help="A reverse proxy (address or network) whose X-Forwarded-Proto/-For are "
                                "believed; repeat for several.")(command)
    command = click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
                           help="The TLS private key (PEM), with --tls-cert.")(command)
    return click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
                        help="Serve HTTPS with this certificate chain (PEM); needs --tls-key.")(command)


def config_fields(tls_cert: Path | None, tls_key: Path | None, trusted_proxies: tuple[str, ...]) -> dict[str, Any]:
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    try:
        for network in trusted_proxies:
            ipaddress.ip_network(network, strict=False)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--trusted-proxy") from None
    return {"tls_cert": tls_cert, "tls_key": tls_key, "trusted_proxies": tuple(trusted_proxies)}


def server_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The TLS context to serve with (TLS 1.2 at least), or None for plain HTTP."""
    if cert is None or key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def _trusted(app: web.Application, peer: str | None) -> bool:
    networks = app[CONFIG].trusted_proxies
    if not networks or not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


@web.middleware
async def forwarded_middleware(request: web.Request, handler) -> web.StreamResponse:
    """From a trusted proxy: the scheme and client address it forwarded for (the nearest
    hop it saw: the last X-Forwarded-For entry)."""
    peer = request.remote
    if peer is not None and _trusted(request.app, peer):
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        scheme = proto if proto in ("http", "https") else request.scheme
        forwarded_for = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        remote = peer
        with contextlib.suppress(ValueError):
            remote = str(ipaddress.ip_address(forwarded_for))
        if (scheme, remote) != (request.scheme, peer):
            request = request.clone(scheme=scheme, remote=remote)
    return await handler(request)
