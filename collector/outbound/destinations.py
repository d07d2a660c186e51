"""Where outbound delivery may connect: never to loopback, link-local, private, reserved or
multicast addresses (unless an operator allows networks with SHADOWMAP_OUTBOUND_ALLOW_NETWORKS,
comma-separated CIDRs, for a SIEM on the internal network), and never to a cloud metadata
address whatever is allowed. A sink URL is checked when it is saved (its name resolved) and
again at every connection: `CheckedResolver` hands aiohttp only addresses it has checked, so
the address connected to is the address checked (a name that re-resolves elsewhere is
refused), and URLs with an address in place of a name are checked before the request."""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

ALLOW_ENV = "SHADOWMAP_OUTBOUND_ALLOW_NETWORKS"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud instance metadata services (AWS, GCP and Azure share the first; AWS IPv6; AWS ECS; Alibaba)
METADATA = frozenset(ipaddress.ip_address(address) for address in
                     ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200"))


class DestinationRefused(OSError):
    """A sink address outbound delivery will not connect to; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EACCES, message)  # aiohttp reports the strerror of a resolver's OSError


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    text = os.environ.get(ALLOW_ENV, "")
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def refusal(address: IPAddress) -> str | None:
    """Why outbound delivery may not connect to ``address``, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    if any(address in network for network in allowed_networks()):
        return None
    for kind, flag in (("loopback", address.is_loopback), ("link-local", address.is_link_local),
                       ("unspecified", address.is_unspecified), ("multicast", address.is_multicast),
                       ("private", address.is_private), ("reserved", address.is_reserved),
                       ("non-global", not address.is_global)):
        if flag:
            return f"a {kind} address"
    return None


def check_address(host: str, address: str) -> None:
    reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
    if reason:
        raise DestinationRefused(f"refused: {host} is {address}, {reason} (see {ALLOW_ENV})")


def literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_url(url: str, resolve: bool = True) -> None:
    """Raise DestinationRefused when ``url``'s host is, or resolves to, a refused address.
    A name that does not resolve now passes: it is checked again at every connection."""
    host = urlsplit(url).hostname or ""
    literal = literal_address(host)
    if literal is not None:
        check_address(host, literal)
        return
    if not resolve:
        return
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    for *_, sockaddr in found:
        check_address(host, str(sockaddr[0]))


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver, refusing a name when any of its addresses is refused."""

    def __init__(self) -> None:
        self._resolver = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            check_address(host, result["host"])
        return results

    async def close(self) -> None:
        await self._resolver.close()
