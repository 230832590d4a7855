"""The activation system's sandbox twin: the same HTTP contract as the real one, served by Herald itself
at ``/sandbox/activation/``, with a success rate, latency and failure kind set in settings or at run time
through ``POST /sandbox/activation/control``.

Failure kinds: ``reject`` (422, permanent), ``error`` (503, transient), ``timeout`` (answers after the
client gave up), ``lost`` (activates, then answers 503, so the client's retry meets the first result).
State lives in the cache, so every web process of one host sees the same activations.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.core.payloads import json_object

FAILURE_KINDS = ("reject", "error", "timeout", "lost")
_CONTROL_KEY = "sandbox:activation:control"
_STATE_SECONDS = 7 * 24 * 3600


def _activation_key(reference: str) -> str:
    return f"sandbox:activation:ref:{reference}"


def sandbox_control() -> dict[str, Any]:
    """The twin's current behaviour: settings, overridden by whatever the control endpoint set."""
    behaviour: dict[str, Any] = {
        "success_rate": settings.ACTIVATION_SANDBOX_SUCCESS_RATE,
        "latency_ms": settings.ACTIVATION_SANDBOX_LATENCY_MS,
        "failure_kind": settings.ACTIVATION_SANDBOX_FAILURE_KIND,
    }
    behaviour.update(cache.get(_CONTROL_KEY) or {})
    return behaviour


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def control(request: HttpRequest) -> JsonResponse:
    """GET: the behaviour; POST ``{success_rate?, latency_ms?, failure_kind?}``: change it; DELETE: reset."""
    if request.method == "DELETE":
        cache.delete(_CONTROL_KEY)
        return JsonResponse(sandbox_control())
    if request.method == "POST":
        try:
            body = json_object(request.body)
        except ValueError as exc:
            return _bad_request(str(exc))
        changes: dict[str, Any] = dict(cache.get(_CONTROL_KEY) or {})
        if "success_rate" in body:
            rate = body["success_rate"]
            if not isinstance(rate, int | float) or not 0 <= rate <= 1:
                return _bad_request("success_rate must be a number from 0 to 1.")
            changes["success_rate"] = float(rate)
        if "latency_ms" in body:
            latency = body["latency_ms"]
            if not isinstance(latency, int) or not 0 <= latency <= 60_000:
                return _bad_request("latency_ms must be an integer from 0 to 60000.")
            changes["latency_ms"] = latency
        if "failure_kind" in body:
            if body["failure_kind"] not in FAILURE_KINDS:
                return _bad_request(f"failure_kind must be one of {', '.join(FAILURE_KINDS)}.")
            changes["failure_kind"] = body["failure_kind"]
        cache.set(_CONTROL_KEY, changes, _STATE_SECONDS)
    return JsonResponse(sandbox_control())


@csrf_exempt
@require_http_methods(["POST"])
def activate(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _bad_request("The body must be JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("reference"), str) or not body["reference"]:
        return _bad_request("reference is required.")
    if not isinstance(body.get("offer_code"), str) or not body["offer_code"]:
        return _bad_request("offer_code is required.")
    reference = body["reference"][:200]
    behaviour = sandbox_control()
    if behaviour["latency_ms"]:
        time.sleep(behaviour["latency_ms"] / 1000)
    known = cache.get(_activation_key(reference))
    if known is not None:  # idempotent by reference: a retry gets the first result
        return JsonResponse(known, status=200 if known["status"] == "ACTIVATED" else 422)
    if random.random() < behaviour["success_rate"]:  # noqa: S311 - a simulation, not a secret
        record = {
            "reference": reference,
            "status": "ACTIVATED",
            "external_reference": f"EXT-{uuid.uuid4().hex[:12].upper()}",
            "offer_code": body["offer_code"],
        }
        cache.set(_activation_key(reference), record, _STATE_SECONDS)
        return JsonResponse(record)
    kind = behaviour["failure_kind"]
    if kind == "reject":
        record = {"reference": reference, "status": "REJECTED", "error": "offer not available for customer"}
        cache.set(_activation_key(reference), record, _STATE_SECONDS)
        return JsonResponse(record, status=422)
    if kind == "timeout":
        time.sleep(settings.ACTIVATION_TIMEOUT_SECONDS + 0.5)  # past the client's patience
        return JsonResponse({"error": "too late"}, status=504)
    if kind == "lost":  # did the work, lost the answer
        record = {
            "reference": reference,
            "status": "ACTIVATED",
            "external_reference": f"EXT-{uuid.uuid4().hex[:12].upper()}",
            "offer_code": body["offer_code"],
        }
        cache.set(_activation_key(reference), record, _STATE_SECONDS)
    return JsonResponse({"error": "temporarily unavailable"}, status=503)


@require_http_methods(["GET"])
def activation_status(request: HttpRequest, reference: str) -> JsonResponse:
    known = cache.get(_activation_key(reference))
    if known is None:
        return JsonResponse({"error": "unknown reference"}, status=404)
    return JsonResponse(known)
