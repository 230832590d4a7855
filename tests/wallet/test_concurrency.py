"""8 threads spending from one account funded for exactly N purchases: exactly N succeed, none overdraws."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from herald.core.errors import InvalidInput
from herald.wallet import services
from herald.wallet.models import Account, Hold
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
PURCHASES = 3


@pytest.mark.usefixtures("unrun_tasks")  # the activations stay PENDING: their holds are what we count
def test_eight_threads_buying_from_one_account_funded_for_three() -> None:
    buyer = UserFactory.create()
    offer = services.offer_create(name="Bundle", price="4.00", external_code="B")
    services.deposit_create(user=buyer, amount=Decimal("4.00") * PURCHASES)
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(n: int) -> None:
        try:
            start.wait()
            services.activation_request_idempotent(user=buyer, offer_id=offer.pk, idempotency_key=f"t{n}")
            outcome = "ok"
        except InvalidInput as exc:
            outcome = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["insufficient_balance"] * (THREADS - PURCHASES) + ["ok"] * PURCHASES
    account = Account.objects.get(user=buyer)
    assert account.held == account.balance == Decimal("12.00")
    assert Hold.objects.filter(account=account, status="active").count() == PURCHASES


@pytest.mark.usefixtures("unrun_tasks")
def test_one_idempotency_key_sent_by_eight_threads_has_one_effect() -> None:
    buyer = UserFactory.create()
    offer = services.offer_create(name="Bundle", price="4.00", external_code="B")
    services.deposit_create(user=buyer, amount=Decimal("40.00"))
    start = threading.Barrier(THREADS)
    answers: list[str] = []

    def buy() -> None:
        try:
            start.wait()
            answer = services.activation_request_idempotent(
                user=buyer, offer_id=offer.pk, idempotency_key="same"
            )
            answers.append(answer["transaction_id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=buy) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == THREADS and len(set(answers)) == 1
    assert Account.objects.get(user=buyer).held == Decimal("4.00")
