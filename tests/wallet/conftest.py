"""Wallet fixtures: a funded customer, offers, partners with a request signer, Celery run inline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from config.celery import app as celery_app
from herald.accounts.models import User
from herald.wallet import services
from herald.wallet.models import Offer, Partner
from tests.factories import UserFactory


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """``.delay()`` runs the task at once, in the calling thread (after commit, as in production)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def unrun_tasks() -> Iterator[None]:
    """``.delay()`` goes to an in-memory broker no worker reads: a task "lost" with its message."""
    broker_url, eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "memory://", False
    yield
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = broker_url, eager


@pytest.fixture
def offer(db: None) -> Offer:
    return services.offer_create(name="10 GB bundle", price="5.00", external_code="DATA10", validity_days=30)


@pytest.fixture
def customer(db: None) -> User:
    user = UserFactory.create(username="carla-customer")
    services.deposit_create(user=user, amount=Decimal("20.00"), reason="welcome credit")
    return user


def activate(client: Client, offer_id: int, key: str) -> Any:
    return client.post(
        "/api/v1/activation/",
        {"offer_id": offer_id},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


@pytest.fixture
def partner_with_secret(db: None) -> tuple[Partner, str]:
    return services.partner_create(name="Acme Telecom Shops")


PartnerCall = Callable[..., Any]


def signed_headers(
    partner: Partner, secret: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Partner-Key": partner.key,
        "X-Partner-Timestamp": stamp,
        "X-Partner-Signature": services.signature_compute(secret=secret, timestamp=stamp, body=body),
    }


@pytest.fixture
def partner_call(client: Client, partner_with_secret: tuple[Partner, str]) -> PartnerCall:
    """``partner_call("post", path, body)`` signed as the partner (``partner=``/``secret=`` to override)."""
    default_partner, default_secret = partner_with_secret

    def call(method: str, path: str, body: dict[str, Any] | None = None, **options: Any) -> Any:
        partner = options.pop("partner", default_partner)
        secret = options.pop("secret", default_secret)
        raw = json.dumps(body).encode() if body is not None else b""
        headers = signed_headers(partner, secret, raw, timestamp=options.pop("timestamp", None))
        if method == "get":
            return client.get(path, headers=headers)
        return client.post(path, raw, content_type="application/json", headers=headers)

    return call
