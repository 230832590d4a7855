"""Reads for the wallet API: a user's balance, subscriptions and transactions, a partner's references."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from herald.accounts.models import User
from herald.wallet.models import Account, Partner, Subscription, Transaction


def account_of(*, user: User) -> Account | None:
    return Account.objects.filter(user=user).first()


def subscriptions_of(*, user: User) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user).select_related("offer").order_by("expires_at")


def transactions_of(*, user: User) -> QuerySet[Transaction]:
    return Transaction.objects.filter(account__user=user).order_by("-created_at")


def transaction_of(*, user: User, transaction_id: uuid.UUID | str) -> Transaction | None:
    return transactions_of(user=user).filter(pk=transaction_id).first()


def partner_transaction_by_reference(*, partner: Partner, reference: str) -> Transaction | None:
    return Transaction.objects.select_related("account").filter(partner=partner, reference=reference).first()
