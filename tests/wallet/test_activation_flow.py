"""Activation end to end: API -> task (after commit) -> the sandbox activation system over HTTP -> status.
Success posts the hold, failure and timeouts refund, every task run twice has one effect, and the sweeper
drives stuck transactions to an end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from herald.accounts.models import User
from herald.wallet import services
from herald.wallet.models import Account, ActivationAttempt, Offer, Subscription, Transaction
from herald.wallet.tasks import activation_run_task, activation_sweep_task
from tests.wallet.conftest import activate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]
BearerClient = Callable[[User], Client]


@pytest.fixture
def sandbox(live_server: Any, settings: Any) -> str:
    base = f"{live_server.url}/sandbox/activation"
    settings.ACTIVATION_API_BASE = base
    settings.ACTIVATION_TIMEOUT_SECONDS = 0.3
    settings.WALLET_ACTIVATION_MAX_ATTEMPTS = 3
    return base


def sandbox_behaves(base: str, **behaviour: Any) -> None:
    assert httpx.post(f"{base}/control", json=behaviour, timeout=5).status_code == 200


def status_of(client: Client, transaction_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/activation/status/{transaction_id}/")
    assert answer.status_code == 200
    return answer.json()


def test_customer_activates_and_watches_pending_become_success(
    sandbox: str, bearer_client: BearerClient, customer: User, offer: Offer
) -> None:
    client = bearer_client(customer)
    answer = activate(client, offer.pk, "buy-1").json()
    assert answer["status"] == "PENDING"  # the answer the API gave; the task ran after commit

    status = status_of(client, answer["transaction_id"])
    assert status["status"] == "SUCCESS"
    assert status["external_reference"].startswith("EXT-")
    assert client.get("/api/v1/account/balance/").json()["balance"] == "15.00"
    assert Subscription.objects.get(user=customer, offer=offer).expires_at > timezone.now() + timedelta(
        days=29
    )

    # the worker dies after the work and before the ack: the task runs again and changes nothing
    activation_run_task.delay(answer["transaction_id"])
    assert Account.objects.get(user=customer).balance == Decimal("15.00")
    assert ActivationAttempt.objects.filter(transaction_id=answer["transaction_id"]).count() == 1


def test_rejection_fails_the_transaction_and_gives_the_money_back(
    sandbox: str, bearer_client: BearerClient, customer: User, offer: Offer
) -> None:
    sandbox_behaves(sandbox, success_rate=0.0, failure_kind="reject")
    client = bearer_client(customer)
    transaction_id = activate(client, offer.pk, "buy-2").json()["transaction_id"]
    status = status_of(client, transaction_id)
    assert status["status"] == "FAILED" and "not available" in status["last_error"]
    assert client.get("/api/v1/account/balance/").json() == {
        "balance": "20.00",
        "held": "0.00",
        "available": "20.00",
        "currency": "EUR",
    }
    assert ActivationAttempt.objects.filter(transaction_id=transaction_id).count() == 1  # permanent: no retry


def test_timeouts_are_retried_with_backoff_then_refunded(
    sandbox: str, bearer_client: BearerClient, customer: User, offer: Offer
) -> None:
    sandbox_behaves(sandbox, success_rate=0.0, failure_kind="timeout")
    client = bearer_client(customer)
    transaction_id = activate(client, offer.pk, "buy-3").json()["transaction_id"]
    txn = Transaction.objects.get(pk=transaction_id)
    assert (txn.status, txn.attempts) == ("FAILED", 3)
    assert "No answer after 3 attempts" in txn.last_error
    assert list(txn.activation_attempts.values_list("outcome", flat=True)) == ["transient"] * 3
    assert Account.objects.get(user=customer).held == Decimal("0.00")


def test_a_lost_answer_is_recovered_by_the_retry_not_refunded(
    sandbox: str, bearer_client: BearerClient, customer: User, offer: Offer
) -> None:
    sandbox_behaves(sandbox, success_rate=0.0, failure_kind="lost")
    client = bearer_client(customer)
    transaction_id = activate(client, offer.pk, "buy-4").json()["transaction_id"]
    txn = Transaction.objects.get(pk=transaction_id)
    assert (txn.status, txn.attempts) == ("SUCCESS", 2)
    assert Account.objects.get(user=customer).balance == Decimal("15.00")


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings: Any) -> None:
    settings.WALLET_ACTIVATION_BACKOFF_SECONDS = 2
    settings.WALLET_ACTIVATION_BACKOFF_MAX_SECONDS = 30
    for attempt, base in [(1, 2), (2, 4), (3, 8), (4, 16), (8, 30)]:
        delays = {services.activation_backoff(attempt=attempt) for _ in range(20)}
        assert all(base * 0.5 <= d <= base * 1.5 for d in delays)
        assert len(delays) > 1  # jitter


def test_sweeper_settles_stuck_transactions_by_asking_the_system(
    sandbox: str, settings: Any, customer: User, offer: Offer, request: pytest.FixtureRequest
) -> None:
    from config.celery import app

    app.conf.task_always_eager = False  # the tasks are "lost": sent where nothing runs them
    request.getfixturevalue("unrun_tasks")
    done_there = services.activation_request(user=customer, offer_id=offer.pk)
    never_sent = services.activation_request(user=customer, offer_id=offer.pk)
    exhausted = services.activation_request(user=customer, offer_id=offer.pk)
    app.conf.task_always_eager = True  # the sweeper's own tasks run
    # the first reached the system (the answer was lost), the others never did
    httpx.post(
        f"{sandbox}/activations", json={"reference": str(done_there.pk), "offer_code": "DATA10"}, timeout=5
    )
    Transaction.objects.filter(pk=exhausted.pk).update(attempts=settings.WALLET_ACTIVATION_MAX_ATTEMPTS)
    Transaction.objects.update(updated_at=timezone.now() - timedelta(hours=1))

    assert activation_sweep_task.delay().get() == 3
    statuses = dict(Transaction.objects.filter(kind="activation").values_list("pk", "status"))
    assert statuses == {done_there.pk: "SUCCESS", never_sent.pk: "SUCCESS", exhausted.pk: "FAILED"}
    assert activation_sweep_task.delay().get() == 0  # nothing left: a second sweep changes nothing
    account = Account.objects.get(user=customer)
    assert (account.balance, account.held) == (Decimal("10.00"), Decimal("0.00"))
