"""The guarded client never reaches internal addresses on a user's behalf."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from herald.core.http import UnsafeAddress, guarded_client, is_public_address


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/", "http://localhost:9/x", "http://[::1]:9/", "http://10.0.0.1/"]
)
def test_internal_hosts_are_refused_before_any_connection(url: str) -> None:
    with guarded_client() as client, pytest.raises(UnsafeAddress, match="non-public address"):
        client.get(url)


def test_a_name_that_resolves_to_an_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # a DNS answer pointing a public-looking name at the metadata service (the rebinding trick)
    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with guarded_client() as client, pytest.raises(UnsafeAddress, match=r"169\.254\.169\.254"):
        client.get("http://shop.example.com/stock")


def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    with guarded_client() as client, pytest.raises(httpx.ConnectError):
        client.get("http://no-such-host.invalid/")
