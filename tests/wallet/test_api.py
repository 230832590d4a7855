"""The customer API as the seed draws it: offers, account, activation with Idempotency-Key, status."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from herald.accounts.models import User
from herald.wallet import services
from herald.wallet.models import Account, Offer, Transaction
from tests.wallet.conftest import activate

pytestmark = pytest.mark.django_db

BearerClient = Callable[[User], Client]


def test_customer_sees_offers_and_the_list_is_refreshed_when_an_offer_changes(
    bearer_client: BearerClient, customer: User, offer: Offer, django_capture_on_commit_callbacks
) -> None:
    client = bearer_client(customer)
    assert [o["name"] for o in client.get("/api/v1/offers/").json()] == ["10 GB bundle"]
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_update(offer=offer, name="12 GB bundle", price="6.00")
    listed = client.get("/api/v1/offers/").json()
    assert [(o["name"], o["price"]) for o in listed] == [("12 GB bundle", "6.00")]
    assert client.get(f"/api/v1/offers/{offer.pk}/").json()["price"] == "6.00"
    assert client.get("/api/v1/offers/999999/").status_code == 404


def test_offers_need_a_login(client: Client, offer: Offer) -> None:
    assert client.get("/api/v1/offers/").status_code == 401


def test_activation_answers_pending_holds_the_price_and_status_comes_from_the_cache(
    bearer_client: BearerClient, customer: User, offer: Offer, django_capture_on_commit_callbacks
) -> None:
    client = bearer_client(customer)
    with django_capture_on_commit_callbacks() as callbacks:
        answer = activate(client, offer.pk, "key-1")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "PENDING"
    assert len(callbacks) == 2  # the cache write and the activation task, both after commit

    balance = client.get("/api/v1/account/balance/").json()
    assert balance == {"balance": "20.00", "held": "5.00", "available": "15.00", "currency": "EUR"}

    callbacks[0]()  # the cache write only: the task is not run here
    cache_key = f"wallet:tx:{body['transaction_id']}"
    assert cache.get(cache_key)["status"] == "PENDING"
    Transaction.objects.filter(pk=body["transaction_id"]).update(status="SUCCESS")  # behind the cache's back
    assert client.get(f"/api/v1/activation/status/{body['transaction_id']}/").json()["status"] == "PENDING"
    cache.delete(cache_key)  # a miss reads the database and fills the cache
    assert client.get(f"/api/v1/activation/status/{body['transaction_id']}/").json()["status"] == "SUCCESS"
    assert cache.get(cache_key)["status"] == "SUCCESS"


def test_same_idempotency_key_gives_the_first_answer_and_another_payload_is_refused(
    bearer_client: BearerClient, customer: User, offer: Offer
) -> None:
    other = services.offer_create(name="Voice 100", price="3.00", external_code="VOICE100")
    client = bearer_client(customer)
    first = activate(client, offer.pk, "retry-me").json()
    assert activate(client, offer.pk, "retry-me").json() == first
    conflict = activate(client, other.pk, "retry-me")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_key_reused"
    assert Transaction.objects.filter(kind="activation").count() == 1
    assert Account.objects.get(user=customer).held == Decimal("5.00")


def test_activation_refusals(bearer_client: BearerClient, customer: User, offer: Offer) -> None:
    client = bearer_client(customer)
    expensive = services.offer_create(name="Unlimited", price="50.00", external_code="UNL")
    poor = activate(client, expensive.pk, "k1")
    assert (poor.status_code, poor.json()["code"]) == (400, "insufficient_balance")
    assert activate(client, 424242, "k2").status_code == 404
    services.offer_update(offer=offer, is_active=False)
    assert activate(client, offer.pk, "k3").status_code == 404
    no_key = client.post("/api/v1/activation/", {"offer_id": offer.pk}, content_type="application/json")
    assert no_key.status_code == 400
    # a refused request does not burn its key: after a top-up the same key works
    services.deposit_create(user=customer, amount="40.00")
    assert activate(client, expensive.pk, "k1").json()["status"] == "PENDING"


def test_another_customer_cannot_see_my_transaction(
    bearer_client: BearerClient, customer: User, offer: Offer, personas
) -> None:
    mine = activate(bearer_client(customer), offer.pk, "k").json()["transaction_id"]
    outsider = bearer_client(personas.outsider)
    assert outsider.get(f"/api/v1/activation/status/{mine}/").status_code == 404
    assert outsider.get(f"/api/v1/account/transactions/{mine}/").status_code == 404
    assert outsider.get("/api/v1/activation/status/not-a-uuid/").status_code == 400


def test_transactions_are_paginated_newest_first(
    bearer_client: BearerClient, customer: User, offer: Offer
) -> None:
    client = bearer_client(customer)
    for n in range(3):
        activate(client, offer.pk, f"k{n}")
    page = client.get("/api/v1/account/transactions/?page=1&page_size=2").json()
    assert (page["count"], page["pages"], len(page["items"])) == (4, 2, 2)
    assert page["items"][0]["kind"] == "activation"
    last = client.get("/api/v1/account/transactions/?page=2&page_size=2").json()
    assert last["items"][-1]["kind"] == "deposit"
    one = client.get(f"/api/v1/account/transactions/{page['items'][0]['id']}/").json()
    assert one["status"] == "PENDING"


def test_renew_needs_a_subscription(bearer_client: BearerClient, customer: User, offer: Offer) -> None:
    client = bearer_client(customer)
    url = "/api/v1/offers/renew/"
    assert client.post(url, {"offer_id": offer.pk}, content_type="application/json").status_code == 404
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_complete(transaction_id=txn.pk)
    renewed = client.post(url, {"offer_id": offer.pk}, content_type="application/json")
    assert renewed.json()["status"] == "PENDING"
    subs = client.get("/api/v1/account/subscriptions/").json()
    assert [s["offer_name"] for s in subs] == ["10 GB bundle"]


def test_staff_manage_customers_offers_deposits_and_partners(
    bearer_client: BearerClient, staff_user: User, customer: User
) -> None:
    staff = bearer_client(staff_user)
    made = staff.post(
        "/api/v1/manage/customers",
        {"username": "newbie", "password": "a-long-password-1", "email": "newbie@example.com"},
        content_type="application/json",
    )
    assert made.status_code == 201
    offer = staff.post(
        "/api/v1/manage/offers",
        {"name": "Roaming", "price": "7.50", "external_code": "ROAM", "validity_days": 7},
        content_type="application/json",
    )
    assert offer.status_code == 201 and offer.json()["price"] == "7.50"
    deposit = staff.post(
        "/api/v1/manage/deposits",
        {"user_id": made.json()["id"], "amount": "12.34", "reason": "promo"},
        content_type="application/json",
    )
    assert (deposit.status_code, deposit.json()["balance"]) == (201, "12.34")
    partner = staff.post("/api/v1/manage/partners", {"name": "Shop"}, content_type="application/json")
    assert partner.status_code == 201 and partner.json()["secret"].startswith("psk_")

    customer_client = bearer_client(customer)
    refused = customer_client.post(
        "/api/v1/manage/deposits", {"user_id": customer.pk, "amount": "1000"}, content_type="application/json"
    )
    assert refused.status_code == 403


def test_customer_turns_auto_renew_on_and_gives_a_phone(
    bearer_client: BearerClient, customer: User, offer: Offer, personas
) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_complete(transaction_id=txn.pk)
    client = bearer_client(customer)
    (subscription,) = client.get("/api/v1/account/subscriptions/").json()
    url = f"/api/v1/account/subscriptions/{subscription['id']}/"
    assert (
        client.patch(url, {"auto_renew": True}, content_type="application/json").json()["auto_renew"] is True
    )
    outsider = bearer_client(personas.outsider)
    assert outsider.patch(url, {"auto_renew": False}, content_type="application/json").status_code == 404

    assert client.get("/api/v1/account/contact/").json() == {"phone": "", "telegram_linked": False}
    saved = client.put(
        "/api/v1/account/contact/", {"phone": "+4915112345678"}, content_type="application/json"
    )
    assert saved.json() == {"phone": "+4915112345678", "telegram_linked": False}
    bad = client.put("/api/v1/account/contact/", {"phone": "call me"}, content_type="application/json")
    assert bad.status_code == 400
