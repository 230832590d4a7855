"""The ledger's own SQL (herald/wallet/ledger.py): cents add up exactly although SQLite stores decimals as
floats, the form without RETURNING (SQLite before 3.35) keeps every guarantee, a hold that is not active
stops the post, and a hold + post stays a handful of statements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from herald.accounts.models import User
from herald.core.errors import InvalidInput
from herald.wallet import services
from herald.wallet.models import Account, Hold, LedgerEntry, Offer, Subscription, Transaction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["returning", "no-returning"])
def sql_form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "no-returning":
        if connection.vendor != "sqlite":
            pytest.skip("only SQLite before 3.35 lacks RETURNING")
        monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    yield request.param


def entries_sum(account: Account) -> Decimal:
    return sum(account.entries.values_list("amount", flat=True), Decimal(0))


@pytest.mark.usefixtures("sql_form")
def test_cents_add_up_exactly_to_the_last_one() -> None:
    # 0.10 + 0.20 is not 0.30 in floats: without rounding, SQLite would refuse the second purchase
    buyer = UserFactory.create()
    services.deposit_create(user=buyer, amount="0.30")
    dime = services.offer_create(name="dime", price="0.10", external_code="D")
    twenty = services.offer_create(name="twenty", price="0.20", external_code="T")
    first = services.activation_request(user=buyer, offer_id=dime.pk)
    second = services.activation_request(user=buyer, offer_id=twenty.pk)
    with pytest.raises(InvalidInput) as refused:
        services.activation_request(user=buyer, offer_id=dime.pk)
    assert refused.value.details == {"price": "0.10", "available": "0.00"}

    assert services.activation_complete(transaction_id=first.pk, external_reference="E1") is True
    assert services.activation_fail(transaction_id=second.pk, error="rejected") is True
    account = Account.objects.get(user=buyer)
    assert (account.balance, account.held) == (Decimal("0.20"), Decimal("0.00"))
    assert entries_sum(account) == account.balance
    assert LedgerEntry.objects.get(transaction_id=first.pk).balance_after == Decimal("0.20")

    again = services.activation_request(user=buyer, offer_id=twenty.pk)  # exactly what is left
    assert services.activation_complete(transaction_id=again.pk) is True
    account.refresh_from_db()
    assert (account.balance, account.held) == (Decimal("0.00"), Decimal("0.00"))
    assert entries_sum(account) == account.balance


@pytest.mark.usefixtures("sql_form")
def test_an_answer_resolves_the_hold_once_and_returns_the_ended_transaction(
    customer: User, offer: Offer
) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    assert services.activation_complete(transaction_id=str(txn.pk), external_reference="EXT") is True
    assert services.activation_complete(transaction_id=txn.pk, external_reference="EXT") is False
    assert services.activation_fail(transaction_id=txn.pk, error="late") is False
    txn.refresh_from_db()
    assert (txn.status, txn.external_reference, txn.completed_at is not None) == ("SUCCESS", "EXT", True)
    assert Hold.objects.get(transaction=txn).status == "posted"
    assert LedgerEntry.objects.filter(transaction=txn).count() == 1
    account = Account.objects.get(user=customer)
    assert (account.balance, account.held) == (Decimal("15.00"), Decimal("0.00"))


def test_a_hold_that_is_no_longer_active_stops_the_post_and_nothing_changes(
    customer: User, offer: Offer
) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    Hold.objects.filter(transaction=txn).update(status="voided")  # as if voided behind the ledger's back
    with pytest.raises(RuntimeError):
        services.activation_complete(transaction_id=txn.pk)
    txn.refresh_from_db()
    assert txn.status == "PENDING"
    account = Account.objects.get(user=customer)
    assert (account.balance, account.held) == (Decimal("20.00"), Decimal("5.00"))
    assert not LedgerEntry.objects.filter(transaction=txn).exists()


def test_a_lapsed_subscription_is_renewed_from_now(customer: User, offer: Offer) -> None:
    first = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_complete(transaction_id=first.pk)
    Subscription.objects.filter(user=customer).update(expires_at=timezone.now() - timedelta(days=10))
    renewal = services.subscription_renew_request(user=customer, offer_id=offer.pk)
    before = timezone.now()
    services.activation_complete(transaction_id=renewal["transaction_id"])
    expires = Subscription.objects.get(user=customer).expires_at
    validity = timedelta(days=offer.validity_days)
    assert before + validity <= expires <= timezone.now() + validity


def test_a_hold_and_its_post_take_a_handful_of_statements(customer: User, offer: Offer) -> None:
    # a guard on the ledger's cost: it was 18 statements per activation hold + post with the ORM
    services.activation_complete(
        transaction_id=services.activation_request(user=customer, offer_id=offer.pk).pk
    )
    with CaptureQueriesContext(connection) as queries:
        txn = services.activation_request(user=customer, offer_id=offer.pk)
        services.activation_complete(transaction_id=txn.pk)
    assert Transaction.objects.get(pk=txn.pk).status == "SUCCESS"
    # offer; hold (account, transaction, hold); post (transaction, hold, account, entry); subscription
    limit = 5 if connection.vendor == "postgresql" else 10
    writes = [q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) <= limit, [q["sql"][:80] for q in writes]
