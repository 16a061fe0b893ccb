"""What a webhook may be sent to (SSRF guard, ADR 0023).

Only http(s) URLs with a host and no credentials; never Kontor's own API (its admin and every
other endpoint), checked on the addresses the host resolves to at delivery time, so a DNS name
pointing back at us is caught too. With `block_private`, loopback, private, link-local
(cloud metadata) and other non-global addresses are refused as well.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class ForbiddenTarget(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Guard:
    own_host: str = "127.0.0.1"
    own_port: int = 8000
    block_private: bool = False

    def check_url(self, url: str) -> tuple[str, int]:
        """The URL's host and port, or ForbiddenTarget saying why it may not be used."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ForbiddenTarget("only http and https URLs are allowed")
        if not parts.hostname:
            raise ForbiddenTarget("the URL needs a host")
        if parts.username or parts.password:
            raise ForbiddenTarget("credentials in the URL are not allowed; use the secret")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ForbiddenTarget("the URL's port is not a number") from None
        return parts.hostname, port

    def check_target(self, url: str, *, must_resolve: bool = True) -> None:
        """Resolves the URL's host and refuses it if any address is forbidden. A host that does
        not resolve (yet) passes when `must_resolve` is false: delivery checks again."""
        host, port = self.check_url(url)
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except socket.gaierror as error:
            if not must_resolve:
                return
            raise ForbiddenTarget(f"cannot resolve {host}: {error.strerror}") from None
        own = self._own_addresses()
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if port == self.own_port and (
                address in own or address.is_unspecified or (address.is_loopback and own.local)
            ):
                raise ForbiddenTarget("webhooks may not target Kontor's own API")
            if self.block_private and not address.is_global:
                raise ForbiddenTarget(f"{address} is not a public address")

    def _own_addresses(self) -> _Own:
        host = ipaddress.ip_address(socket.gethostbyname(self.own_host))
        own = _Own({host})
        own.local = host.is_unspecified or host.is_loopback
        if host.is_unspecified:  # bound to every interface: each of ours is "us"
            with contextlib.suppress(OSError):
                for info in socket.getaddrinfo(socket.gethostname(), None):
                    own.add(ipaddress.ip_address(info[4][0]))
        return own


class _Own(set[ipaddress.IPv4Address | ipaddress.IPv6Address]):
    """Our API's addresses; `local` when it listens on loopback (or everywhere)."""

    local: bool = False
