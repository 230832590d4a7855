"""Partner request authentication: ``X-Partner-Key`` plus an HMAC-SHA256 signature of
``"{X-Partner-Timestamp}.{raw body}"`` with the partner's secret, the timestamp within 300 s."""

from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyHeader

from herald.core.errors import Unauthorized
from herald.wallet.models import Partner
from herald.wallet.services import partner_secret, signature_compute


class PartnerSignatureAuth(APIKeyHeader):
    """Sets ``request.auth`` to the calling :class:`Partner`; anything wrong is a 401 saying what."""

    param_name = "X-Partner-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Partner | None:
        if not key:
            return None
        partner = Partner.objects.filter(key=key, is_active=True).first()
        if partner is None:
            raise Unauthorized("The partner key is unknown or inactive.", code="invalid_partner_key")
        timestamp = request.headers.get("X-Partner-Timestamp", "")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise Unauthorized("X-Partner-Timestamp must be unix seconds.", code="invalid_timestamp")
        tolerance = settings.WALLET_PARTNER_SIGNATURE_TOLERANCE_SECONDS
        if abs(time.time() - int(timestamp)) > tolerance:
            raise Unauthorized(
                f"X-Partner-Timestamp is more than {tolerance} s away from now.", code="stale_timestamp"
            )
        expected = signature_compute(secret=partner_secret(partner), timestamp=timestamp, body=request.body)
        given = request.headers.get("X-Partner-Signature", "").strip().lower()
        if not hmac.compare_digest(expected, given):
            raise Unauthorized("X-Partner-Signature does not match the request.", code="invalid_signature")
        return partner
