"""Partner API: signed requests only, the server's price, one effect per reference, own transactions only,
and signed callbacks to the partner's URL with every attempt recorded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.test import Client

from herald.accounts.models import User
from herald.wallet import services
from herald.wallet.models import Account, Offer, Partner, PartnerCallback, Transaction
from tests.wallet.conftest import PartnerCall, signed_headers

pytestmark = pytest.mark.django_db
ACTIVATE = "/api/v1/partner/activate/"


def test_partner_activates_for_a_customer_and_validates_the_reference(
    partner_call: PartnerCall, customer: User, offer: Offer
) -> None:
    answer = partner_call(
        "post", ACTIVATE, {"user_id": customer.pk, "offer_id": offer.pk, "reference": "ORD-1"}
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["reference"], body["status"]) == ("ORD-1", "PENDING")
    assert Account.objects.get(user=customer).held == offer.price

    valid = partner_call("get", "/api/v1/partner/validate/ORD-1/").json()
    assert valid["is_valid"] is True
    assert (valid["transaction_id"], valid["user_id"], valid["offer_id"]) == (
        body["transaction_id"],
        customer.pk,
        offer.pk,
    )
    missing = partner_call("get", "/api/v1/partner/validate/NOPE/").json()
    assert missing == {
        "reference": "NOPE",
        "is_valid": False,
        "transaction_id": None,
        "user_id": None,
        "offer_id": None,
        "status": None,
        "error": "Transaction not found",
    }


def test_the_reference_makes_the_call_idempotent(
    partner_call: PartnerCall, customer: User, offer: Offer
) -> None:
    payload = {"user_id": customer.pk, "offer_id": offer.pk, "reference": "ORD-7"}
    first = partner_call("post", ACTIVATE, payload).json()
    for _ in range(2):
        assert partner_call("post", ACTIVATE, payload).json() == first
    other = services.offer_create(name="Voice", price="1.00", external_code="V")
    conflict = partner_call("post", ACTIVATE, {**payload, "offer_id": other.pk})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "reference_reused")
    assert Transaction.objects.filter(kind="partner_activation").count() == 1


def test_the_price_is_the_servers(partner_call: PartnerCall, customer: User, offer: Offer) -> None:
    cheap = partner_call("post", ACTIVATE, {"user_id": customer.pk, "offer_id": offer.pk, "amount": "0.01"})
    assert (cheap.status_code, cheap.json()["code"]) == (400, "amount_mismatch")
    exact = partner_call("post", ACTIVATE, {"user_id": customer.pk, "offer_id": offer.pk, "amount": "5.00"})
    assert exact.status_code == 200
    assert Transaction.objects.get(kind="partner_activation").amount == Decimal("5.00")


def test_unknown_customer_or_offer_is_a_400(partner_call: PartnerCall, customer: User, offer: Offer) -> None:
    assert partner_call("post", ACTIVATE, {"user_id": 987654, "offer_id": offer.pk}).json()["code"] == (
        "user_not_found"
    )
    assert partner_call("post", ACTIVATE, {"user_id": customer.pk, "offer_id": 987654}).status_code == 400


def test_a_partner_sees_only_its_own_references(
    partner_call: PartnerCall, customer: User, offer: Offer
) -> None:
    partner_call("post", ACTIVATE, {"user_id": customer.pk, "offer_id": offer.pk, "reference": "MINE"})
    rival, rival_secret = services.partner_create(name="Rival")
    seen = partner_call("get", "/api/v1/partner/validate/MINE/", partner=rival, secret=rival_secret).json()
    assert seen["is_valid"] is False
    # the rival may use the same reference for its own customer: references are per partner
    again = partner_call(
        "post",
        ACTIVATE,
        {"user_id": customer.pk, "offer_id": offer.pk, "reference": "MINE"},
        partner=rival,
        secret=rival_secret,
    )
    assert again.status_code == 200
    assert Transaction.objects.filter(reference="MINE").count() == 2


def test_unsigned_tampered_stale_and_foreign_requests_are_refused(
    client: Client, partner_with_secret: tuple[Partner, str], customer: User, offer: Offer
) -> None:
    partner, secret = partner_with_secret
    body = json.dumps({"user_id": customer.pk, "offer_id": offer.pk}).encode()

    def post(headers: dict[str, str], raw: bytes = body) -> Any:
        return client.post(ACTIVATE, raw, content_type="application/json", headers=headers)

    assert post({}).status_code == 401
    good = signed_headers(partner, secret, body)
    tampered = body.replace(b'"offer_id": ', b'"offer_id": 1')
    assert post(good, tampered).json()["code"] == "invalid_signature"
    stale = signed_headers(partner, secret, body, timestamp=int(time.time()) - 301)
    assert post(stale).json()["code"] == "stale_timestamp"
    future = signed_headers(partner, secret, body, timestamp=int(time.time()) + 301)
    assert post(future).json()["code"] == "stale_timestamp"
    rival, rival_secret = services.partner_create(name="Rival")
    other_key = {**signed_headers(rival, rival_secret, body), "X-Partner-Key": partner.key}
    assert post(other_key).json()["code"] == "invalid_signature"
    assert post({**good, "X-Partner-Key": "pk_unknown"}).json()["code"] == "invalid_partner_key"
    assert post({**good, "X-Partner-Timestamp": "soon"}).json()["code"] == "invalid_timestamp"
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    assert post(signed_headers(partner, secret, body)).status_code == 401
    assert not Transaction.objects.filter(kind="partner_activation").exists()
    # a customer's token is no partner credential
    assert client.get("/api/v1/partner/validate/X/", headers={"Authorization": "Bearer x"}).status_code == 401


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(type(self).answers.pop(0) if type(self).answers else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(settings: Any) -> Iterator[tuple[str, type[_Receiver]]]:
    settings.HERALD_HTTP_ALLOW_PRIVATE = True  # the partner's receiver listens on loopback
    _Receiver.received, _Receiver.answers = [], []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_status_change_sends_a_signed_callback_retried_and_logged(
    receiver: tuple[str, type[_Receiver]], customer: User, offer: Offer, django_capture_on_commit_callbacks
) -> None:
    url, handler = receiver
    partner, secret = services.partner_create(name="Hooked", callback_url=url)
    txn = services.partner_activation_request(
        partner=partner, user_id=customer.pk, offer_id=offer.pk, amount=None, reference="CB-1"
    )
    handler.answers = [500]
    services.activation_complete(transaction_id=txn.pk, external_reference="EXT-9")
    services.activation_complete(transaction_id=txn.pk, external_reference="EXT-9")  # answered twice
    callback = PartnerCallback.objects.get()

    assert services.partner_callback_deliver(callback_id=callback.pk) is not None  # 500: retry later
    assert services.partner_callback_deliver(callback_id=callback.pk) is None  # delivered
    assert services.partner_callback_deliver(callback_id=callback.pk) is None  # already done: no call

    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == ("delivered", 2)
    assert [(a.status_code, a.error) for a in callback.attempt_log.all()] == [(500, "HTTP 500"), (200, "")]
    assert len(handler.received) == 2
    headers, body = handler.received[-1]
    expected = services.signature_compute(secret=secret, timestamp=headers["X-Herald-Timestamp"], body=body)
    assert headers["X-Herald-Signature"] == expected
    assert json.loads(body)["status"] == "SUCCESS" and json.loads(body)["reference"] == "CB-1"


def test_a_callback_url_on_an_internal_address_is_refused(customer: User, offer: Offer) -> None:
    partner, _ = services.partner_create(name="Nosy", callback_url="http://169.254.169.254/latest/meta-data")
    txn = services.partner_activation_request(
        partner=partner, user_id=customer.pk, offer_id=offer.pk, amount=None, reference="SSRF-1"
    )
    services.activation_fail(transaction_id=txn.pk, error="rejected")
    callback = PartnerCallback.objects.get()
    assert services.partner_callback_deliver(callback_id=callback.pk) is not None  # retried later, not sent
    attempt = callback.attempt_log.get()
    assert attempt.status_code is None
    assert "169.254.169.254" in attempt.error and "non-public address" in attempt.error


def test_callbacks_give_up_after_the_maximum(settings: Any, customer: User, offer: Offer) -> None:
    settings.WALLET_PARTNER_CALLBACK_MAX_ATTEMPTS = 2
    partner, _ = services.partner_create(name="Gone", callback_url="http://127.0.0.1:9/unreachable")
    txn = services.partner_activation_request(
        partner=partner, user_id=customer.pk, offer_id=offer.pk, amount=None, reference="CB-2"
    )
    services.activation_fail(transaction_id=txn.pk, error="rejected")
    callback = PartnerCallback.objects.get()
    assert services.partner_callback_deliver(callback_id=callback.pk) is not None
    assert services.partner_callback_deliver(callback_id=callback.pk) is None
    callback.refresh_from_db()
    assert (callback.state, callback.attempts, callback.status) == ("failed", 2, "FAILED")
