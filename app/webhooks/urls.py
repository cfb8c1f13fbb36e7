"""Callback URLs: where a delivery may go (public addresses only)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

# --- callback URLs -------------------------------------------------------------------

# The public address rule: Caravan calls a partner only at global unicast addresses. Some IPv6
# forms carry an IPv4 address, and a connection to one may end at that IPv4 address, so each
# such form is either judged by the IPv4 address it carries (``_carried_ipv4``) or refused
# whatever it carries (``_REFUSED_FORMS``). ``_refusal_of`` applies the rule; nothing else does.

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052

# Forms refused outright, each because what it carries cannot be judged soundly.
_REFUSED_FORMS: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    # IPv4-compatible (RFC 4291 2.5.5.1): deprecated since 2006 and routed nowhere; whether one
    # reaches its IPv4 address at all (an automatic tunnel) is this host's configuration, not the
    # address's, and no receiver needs one. ``::`` and ``::1`` are judged below as themselves.
    (ipaddress.IPv6Network("::/96"), "IPv4-compatible"),
    # NAT64 local-use (RFC 8215): the operator picks where in the /48 the IPv4 address sits
    # (RFC 6052 formats /48 to /96), so it cannot be read out, and the prefix is local by definition.
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "NAT64 local-use"),
    # Teredo (RFC 4380): the packet goes through whichever Teredo relay is nearest (possibly one
    # inside this network) to a host behind a NAT at the obfuscated client address; judging the
    # server and client addresses it carries would not say where the connection ends.
    (ipaddress.IPv6Network("2001::/32"), "Teredo"),
)


def _is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address in itself: global unicast (the stdlib's IANA tables), never multicast."""
    return ip.is_global and not ip.is_multicast


def _carried_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address a connection to ``ip`` may end at, and the form's name (None: no such form).

    These forms are judged by that IPv4 address alone, so a public one is called: refusing
    them whole would refuse real receivers (behind DNS64 every IPv4-only host resolves into
    ``64:ff9b::/96``), and the stdlib's verdict on the IPv6 ranges themselves differs between
    Python patch releases (``2002::/16``).
    """
    if ip.ipv4_mapped:  # ::ffff:0:0/96: a dual-stack socket connects to the IPv4 address
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64_WELL_KNOWN:  # a NAT64 gateway connects to the last 32 bits (RFC 6052 2.2)
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:  # 2002::/16: a 6to4 router tunnels to the IPv4 address in bits 16-48 (RFC 3056)
        return "6to4", ip.sixtofour
    return None


def _refusal_of(address: str) -> str | None:
    """Why Caravan will not call ``address`` (None when it will): the public address rule, for the
    subscription's URL check and the worker's connections alike."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    private = "a private, loopback or reserved address"
    if isinstance(ip, ipaddress.IPv6Address):
        if carried := _carried_ipv4(ip):
            form, ipv4 = carried
            return None if _is_global(ipv4) else f"{private} ({address}, {form} for {ipv4})"
        for network, form in _REFUSED_FORMS:
            if ip in network and not (ip.is_unspecified or ip.is_loopback):
                return f"an address of a form Caravan does not call ({address}, {form})"
        if ip.is_reserved or ip.is_site_local:  # IETF-reserved space and fec0::/10, which 3.11.7 calls global
            return f"{private} ({address})"
    return None if _is_global(ip) else f"{private} ({address})"


async def resolve(host: str, port: int) -> list[str]:
    """The addresses a TCP connection to ``host`` may use, in the resolver's order, without repeats.

    Raises ``OSError`` (``socket.gaierror``) or ``UnicodeError`` when the host does not resolve.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def address_refusal(host: str, addresses: Iterable[str]) -> str | None:
    """Why ``host`` may not be called at ``addresses`` (None when every one of them is public)."""
    refused = sorted((a, why) for a in addresses if (why := _refusal_of(a)))
    if refused:
        return f"the host {host} resolves to {refused[0][1]}"
    return None


async def url_refusal(url: str) -> str | None:
    """Why ``url`` may not be called (None when it may): it must resolve, and only to public addresses.

    A check ahead of time only: the host may resolve differently when the worker connects
    (DNS rebinding), so the worker's connections check the addresses they use again
    (``app.webhooks.worker.PinnedBackend``).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "has no host"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except (socket.gaierror, UnicodeError, OSError):
        return f"the host {host} does not resolve"
    return address_refusal(host, addresses)
