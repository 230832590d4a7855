"""The admin shows the wallet (money records read-only, a new partner's secret once) and /metrics counts
activations, activation-system errors and cache hits."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from herald.accounts.models import User
from herald.wallet import services
from herald.wallet.cache import status_cache_read
from herald.wallet.models import Offer, Partner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client: Client) -> Client:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


def test_admin_pages_show_the_wallet(admin_client_: Client, customer: User, offer: Offer) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_fail(transaction_id=txn.pk, error="rejected by the system")
    for model in [
        "offer",
        "account",
        "ledgerentry",
        "transaction",
        "subscription",
        "partner",
        "partnercallback",
    ]:
        assert admin_client_.get(f"/admin/wallet/{model}/").status_code == 200, model
    page = admin_client_.get(f"/admin/wallet/transaction/{txn.pk}/change/")
    assert page.status_code == 200 and b"rejected by the system" in page.content
    assert admin_client_.get("/admin/wallet/ledgerentry/add/").status_code == 403  # entries are read-only


def test_a_partner_added_in_the_admin_sees_its_secret_once(admin_client_: Client) -> None:
    answer = admin_client_.post(
        "/admin/wallet/partner/add/", {"name": "Shop", "callback_url": "", "is_active": "on"}, follow=True
    )
    assert answer.status_code == 200
    partner = Partner.objects.get(name="Shop")
    shown = [str(m) for m in get_messages(answer.wsgi_request)] + [answer.content.decode()]
    assert any("psk_" in text and partner.key in text for text in shown)
    assert b"psk_" not in admin_client_.get(f"/admin/wallet/partner/{partner.pk}/change/").content


def metric(client: Client, line_start: str) -> float:
    for line in client.get("/metrics").content.decode().splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_activations_and_cache_hits(client: Client, customer: User, offer: Offer) -> None:
    hits = 'herald_wallet_cache_lookups_total{cache="status",outcome="hit"}'
    failed = 'herald_wallet_activations_total{kind="activation",status="FAILED"}'
    before_hits, before_failed = metric(client, hits), metric(client, failed)
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    status_cache_read(transaction_id=txn.pk)  # miss: filled from the database
    status_cache_read(transaction_id=txn.pk)  # hit
    services.activation_fail(transaction_id=txn.pk, error="no")
    assert metric(client, hits) == before_hits + 1
    assert metric(client, failed) == before_failed + 1
    assert metric(client, "herald_wallet_activation_duration_seconds_count") >= 1


def test_openapi_documents_the_partner_signature(client: Client, settings: Any) -> None:
    document = client.get("/api/openapi.json").json()
    operation = document["paths"]["/api/v1/partner/activate/"]["post"]
    assert "X-Partner-Signature" in operation["description"]
    assert {"401", "409"} <= set(operation["responses"])
