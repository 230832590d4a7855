"""The one client of the external activation system: HTTP with timeouts, answers mapped to typed errors.

Contract (the sandbox twin speaks it too):
- ``POST {base}/activations`` ``{reference, offer_code, customer_id}`` -> 200
  ``{reference, status: "ACTIVATED", external_reference}``; the same reference again answers the first
  result (the system is idempotent by reference); 4xx ``{error}`` = rejected for good.
- ``GET {base}/activations/{reference}`` -> 200 ``{reference, status, external_reference}`` or 404.
Timeouts, connection errors, 429 and 5xx are transient; other 4xx are permanent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings


class ActivationError(Exception):
    """The activation system did not activate. ``permanent`` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.kind = kind


class ActivationRejected(ActivationError):
    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message, permanent=True, kind="rejected")
        self.status_code = status_code


class ActivationUnavailable(ActivationError):
    def __init__(self, message: str, *, kind: str = "unavailable") -> None:
        super().__init__(message, permanent=False, kind=kind)


@dataclass(frozen=True)
class ActivationResult:
    reference: str
    status: str  # ACTIVATED | REJECTED | PENDING
    external_reference: str


class ActivationClient:
    """``ActivationClient().activate(...)``; base URL, token and timeout come from settings by default."""

    def __init__(
        self, *, base_url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> None:
        self.base_url = (base_url if base_url is not None else settings.ACTIVATION_API_BASE).rstrip("/")
        self.token = token if token is not None else settings.ACTIVATION_API_TOKEN
        self.timeout = timeout if timeout is not None else settings.ACTIVATION_TIMEOUT_SECONDS

    def activate(self, *, reference: str, offer_code: str, customer_id: int) -> ActivationResult:
        body = {"reference": reference, "offer_code": offer_code, "customer_id": customer_id}
        data = self._call("POST", "/activations", json=body)
        if data.get("status") != "ACTIVATED":
            raise ActivationRejected(str(data.get("error") or f"status {data.get('status')!r}"))
        return self._result(data, reference)

    def status(self, *, reference: str) -> ActivationResult | None:
        """The system's view of an activation, or None when it never received it."""
        try:
            data = self._call("GET", f"/activations/{reference}")
        except ActivationRejected as exc:
            if exc.status_code == 404:
                return None
            raise
        return self._result(data, reference)

    def _result(self, data: dict[str, Any], reference: str) -> ActivationResult:
        return ActivationResult(
            reference=str(data.get("reference") or reference),
            status=str(data.get("status") or "PENDING"),
            external_reference=str(data.get("external_reference") or ""),
        )

    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> dict[str, Any]:
        if not self.base_url:
            raise ActivationUnavailable("No activation system is configured (ACTIVATION_API_BASE).")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.request(
                method, self.base_url + path, json=json, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            raise ActivationUnavailable(f"The activation system timed out: {exc}", kind="timeout") from exc
        except httpx.HTTPError as exc:
            raise ActivationUnavailable(f"The activation system is unreachable: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code == 429 or response.status_code >= 500:
            raise ActivationUnavailable(
                f"The activation system answered {response.status_code}: {data.get('error', '')}".strip(),
                kind="server_error",
            )
        if response.status_code >= 400:
            raise ActivationRejected(
                str(data.get("error") or f"HTTP {response.status_code}"), status_code=response.status_code
            )
        return data
