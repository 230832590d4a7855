"""The wallet's caches: one dict per transaction (the seed's HSET/HGETALL) and the offer list.

The database is the truth: a miss reads it and fills the cache; every status change writes the
cache after its transaction commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

from herald.wallet.metrics import CACHE_LOOKUPS
from herald.wallet.models import Offer, Transaction

OFFERS_KEY = "wallet:offers:v1"


def _status_key(transaction_id: uuid.UUID | str) -> str:
    return f"wallet:tx:{transaction_id}"


def transaction_snapshot(transaction: Transaction) -> dict[str, Any]:
    return {
        "transaction_id": str(transaction.id),
        "user_id": transaction.account.user_id,
        "partner_id": transaction.partner_id,
        "kind": transaction.kind,
        "status": transaction.status,
        "amount": str(transaction.amount),
        "currency": transaction.currency,
        "offer_id": transaction.offer_id,
        "reference": transaction.reference,
        "external_reference": transaction.external_reference,
        "last_error": transaction.last_error,
        "updated_at": transaction.updated_at.isoformat(),
    }


def status_cache_store(
    *, transaction_id: uuid.UUID | str, transaction: Transaction | None = None
) -> dict[str, Any] | None:
    """Writes the transaction to the cache (on commit of every change); ``transaction`` when the caller
    holds the committed row already, else it is read."""
    if transaction is None:
        transaction = Transaction.objects.select_related("account").filter(pk=transaction_id).first()
    if transaction is None:
        return None
    snapshot = transaction_snapshot(transaction)
    cache.set(_status_key(transaction.id), snapshot, settings.WALLET_STATUS_CACHE_SECONDS)
    return snapshot


def status_cache_read(*, transaction_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The cached dict, or the database row (then cached); None when there is no such transaction."""
    snapshot = cache.get(_status_key(transaction_id))
    if snapshot is not None:
        CACHE_LOOKUPS.labels(cache="status", outcome="hit").inc()
        return dict(snapshot)
    CACHE_LOOKUPS.labels(cache="status", outcome="miss").inc()
    return status_cache_store(transaction_id=transaction_id)


def offers_cache_read() -> list[dict[str, Any]]:
    offers = cache.get(OFFERS_KEY)
    if offers is not None:
        CACHE_LOOKUPS.labels(cache="offers", outcome="hit").inc()
        return list(offers)
    CACHE_LOOKUPS.labels(cache="offers", outcome="miss").inc()
    offers = list(
        Offer.objects.filter(is_active=True).values(
            "id", "name", "description", "price", "currency", "validity_days", "is_active"
        )
    )
    cache.set(OFFERS_KEY, offers, settings.WALLET_OFFERS_CACHE_SECONDS)
    return offers


def offers_cache_clear() -> None:
    cache.delete(OFFERS_KEY)
