"""The HTTP step of a flow, through the guarded client (no internal addresses, bounded size and time)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from herald.bots.flows.engine import HttpStepFailed
from herald.core.http import guarded_client, read_limited

TIMEOUT = httpx.Timeout(8.0, connect=4.0)


def http_port(*, method: str, url: str, headers: Mapping[str, str], json: Any | None) -> Any:
    try:
        with (
            guarded_client(timeout=TIMEOUT) as client,
            client.stream(method, url, headers=dict(headers), json=json) as response,
        ):
            body = read_limited(response)
    except (httpx.HTTPError, ValueError) as exc:
        raise HttpStepFailed(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise HttpStepFailed(f"HTTP {response.status_code} from {response.url.host}")
    return _decode(body)


def _decode(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return {"text": body.decode("utf-8", "replace")[:4000]}
