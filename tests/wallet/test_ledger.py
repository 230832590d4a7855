"""The ledger: holds, posts, voids and refunds keep sum(entries) == balance, and each resolves once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from herald.accounts.models import User
from herald.core.errors import Conflict, InvalidInput
from herald.wallet import services
from herald.wallet.models import Account, Hold, LedgerEntry, Offer, Subscription, Transaction

pytestmark = pytest.mark.django_db


def entries_sum(account: Account) -> Decimal:
    # summed here, not with SUM(): SQLite adds decimals as floats
    return sum(account.entries.values_list("amount", flat=True), Decimal(0))


def test_activation_holds_then_success_posts_and_activates_the_offer(customer: User, offer: Offer) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    account = Account.objects.get(user=customer)
    assert (account.balance, account.held) == (Decimal("20.00"), Decimal("5.00"))
    assert txn.status == "PENDING"

    assert services.activation_complete(transaction_id=txn.pk, external_reference="EXT-1") is True
    assert services.activation_complete(transaction_id=txn.pk, external_reference="EXT-2") is False
    assert services.activation_fail(transaction_id=txn.pk, error="late failure") is False

    account.refresh_from_db()
    txn.refresh_from_db()
    assert (account.balance, account.held) == (Decimal("15.00"), Decimal("0.00"))
    assert (txn.status, txn.external_reference) == ("SUCCESS", "EXT-1")
    assert Hold.objects.get(transaction=txn).status == "posted"
    assert entries_sum(account) == account.balance
    assert Subscription.objects.filter(user=customer, offer=offer).count() == 1


def test_failure_voids_the_hold_and_the_money_is_available_again(customer: User, offer: Offer) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    assert services.activation_fail(transaction_id=txn.pk, error="rejected") is True
    assert services.activation_complete(transaction_id=txn.pk) is False  # an answer after the refund

    account = Account.objects.get(user=customer)
    assert (account.balance, account.held) == (Decimal("20.00"), Decimal("0.00"))
    assert Hold.objects.get(transaction=txn).status == "voided"
    assert not Subscription.objects.filter(user=customer).exists()
    assert entries_sum(account) == account.balance


def test_insufficient_available_balance_counts_active_holds(customer: User, offer: Offer) -> None:
    for _ in range(4):
        services.activation_request(user=customer, offer_id=offer.pk)
    with pytest.raises(InvalidInput) as refused:
        services.activation_request(user=customer, offer_id=offer.pk)
    assert refused.value.code == "insufficient_balance"
    assert refused.value.details == {"price": "5.00", "available": "0.00"}


def test_the_database_refuses_a_negative_balance_whatever_the_code_does(customer: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(user=customer).update(balance=Decimal("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(user=customer).update(held=Decimal("20.01"))  # more held than owned


def test_renewal_extends_the_subscription_from_its_expiry(customer: User, offer: Offer) -> None:
    first = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_complete(transaction_id=first.pk)
    expires = Subscription.objects.get(user=customer).expires_at
    renewal = services.subscription_renew_request(user=customer, offer_id=offer.pk)
    services.activation_complete(transaction_id=renewal["transaction_id"])
    assert (Subscription.objects.get(user=customer).expires_at - expires).days == offer.validity_days


def test_refund_of_a_successful_activation_happens_once(customer: User, offer: Offer) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_complete(transaction_id=txn.pk)
    services.transaction_refund(transaction_id=txn.pk, reason="goodwill")
    with pytest.raises(Conflict):
        services.transaction_refund(transaction_id=txn.pk, reason="again")
    account = Account.objects.get(user=customer)
    assert account.balance == Decimal("20.00")
    assert list(account.entries.order_by("id").values_list("kind", flat=True)) == [
        "deposit",
        "debit",
        "refund",
    ]
    assert entries_sum(account) == account.balance


def test_refund_of_a_failed_activation_is_refused(customer: User, offer: Offer) -> None:
    txn = services.activation_request(user=customer, offer_id=offer.pk)
    services.activation_fail(transaction_id=txn.pk, error="no")
    with pytest.raises(Conflict):
        services.transaction_refund(transaction_id=txn.pk)
    assert Transaction.objects.filter(kind="refund").count() == 0
    assert LedgerEntry.objects.filter(kind="refund").count() == 0


@pytest.mark.parametrize("amount", ["0", "-1", "0.001", "NaN", "1e20", "abc"])
def test_bad_deposit_amounts_are_refused(customer: User, amount: str) -> None:
    with pytest.raises(InvalidInput):
        services.deposit_create(user=customer, amount=amount)
