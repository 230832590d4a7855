"""An HTTP client for URLs that users type: it refuses to connect to loopback, private, link-local and
other non-global addresses.

The check happens where the socket is opened, on the address actually connected to, so a redirect to an
internal host or a DNS answer that changes between a check and the connect cannot get through. TLS
still verifies the certificate against the host name in the URL.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from django.conf import settings

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_RESPONSE_BYTES = 1024 * 1024


class UnsafeAddress(httpx.TransportError):
    """The URL's host resolves to an address Herald must not reach on a user's behalf."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not self.allow_private:
            refused = [address for address in addresses if not is_public_address(address)]
            if refused:
                raise UnsafeAddress(f"{host} resolves to a non-public address ({refused[0]}); refused")
        last_error: Exception | None = None
        for address in addresses:
            try:
                # connect to the address we checked, not to the name (which could resolve anew)
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise httpcore.ConnectError(f"cannot connect to {host}: {last_error}")


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pool._network_backend = _GuardedBackend(allow_private=allow_private)


def guarded_client(*, timeout: httpx.Timeout = DEFAULT_TIMEOUT, max_redirects: int = 5) -> httpx.Client:
    """An ``httpx.Client`` that reaches only public addresses (unless ``HERALD_HTTP_ALLOW_PRIVATE``)."""
    return httpx.Client(
        transport=GuardedTransport(allow_private=settings.HERALD_HTTP_ALLOW_PRIVATE),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=max_redirects,
        headers={"User-Agent": "Herald/1"},
    )


def read_limited(response: httpx.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The body of a streamed response, refusing one larger than ``limit`` bytes."""
    chunks = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ValueError(f"the response is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
