"""Every write in the wallet: the ledger (deposits, holds, posts, voids, refunds), activations and their
outcomes, idempotent requests, offers, partners and their callbacks, expiry notices and auto-renewals.

Balances change only here, inside a database transaction that locks the account row first
(``select_for_update``) and writes a ledger entry for every change. A hold resolves exactly once: its
status moves from ``active`` by a conditional UPDATE, and so does a transaction's from PENDING.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from herald.accounts.models import User
from herald.core.crypto import DecryptionError, decrypt, encrypt
from herald.core.errors import Conflict, InvalidInput, NotFound
from herald.core.http import guarded_client
from herald.integrations.activation.client import ActivationClient, ActivationError, ActivationResult
from herald.notify.services import notification_send
from herald.wallet import ledger
from herald.wallet.cache import offers_cache_clear, status_cache_store
from herald.wallet.metrics import ACTIVATION_DURATION, ACTIVATIONS, EXTERNAL_CALL_DURATION, EXTERNAL_ERRORS
from herald.wallet.models import (
    Account,
    ActivationAttempt,
    ExpiryNotice,
    IdempotencyRecord,
    LedgerEntry,
    Offer,
    Partner,
    PartnerCallback,
    PartnerCallbackAttempt,
    Subscription,
    Transaction,
)

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")
TransactionId = uuid.UUID | str
ACTIVATION_KINDS = (
    Transaction.Kind.ACTIVATION,
    Transaction.Kind.RENEWAL,
    Transaction.Kind.PARTNER_ACTIVATION,
)


class InsufficientBalance(InvalidInput):
    code = "insufficient_balance"


def money(value: Decimal | int | str, *, field: str = "amount") -> Decimal:
    """A positive amount with cents, or 400 naming the field."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"{field} must be a number.", code="invalid_amount") from exc
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise InvalidInput(f"{field} must be above 0 and at most {MAX_AMOUNT}.", code="invalid_amount")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInput(f"{field} has at most 2 decimal places.", code="invalid_amount")
    return amount.quantize(CENT)


def _request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# --- Accounts and the ledger -------------------------------------------------------------------------


def account_for_user(*, user: User) -> Account:
    account, _ = Account.objects.get_or_create(user=user, defaults={"currency": settings.WALLET_CURRENCY})
    return account


def _account_lock(account_id: int) -> Account:
    # every money write locks the account row first: one lock per write, so no lock-order deadlocks
    return Account.objects.select_for_update().get(pk=account_id)


def _entry_write(
    *, account: Account, txn: Transaction, kind: str, amount: Decimal, held_change: Decimal = Decimal(0)
) -> LedgerEntry:
    """Changes a locked account's balance by ``amount`` (signed) and records the entry."""
    account.balance += amount
    account.held += held_change
    account.save(update_fields=["balance", "held", "updated_at"])
    return LedgerEntry.objects.create(
        account=account, transaction=txn, kind=kind, amount=amount, balance_after=account.balance
    )


def deposit_create(*, user: User, amount: Decimal | str, reason: str = "") -> Transaction:
    """Credits the user's account (staff top-up): a SUCCESS deposit transaction and its ledger entry."""
    value = money(amount)
    account = account_for_user(user=user)
    with transaction.atomic():
        account = _account_lock(account.pk)
        txn = Transaction.objects.create(
            account=account,
            kind=Transaction.Kind.DEPOSIT,
            status=Transaction.Status.SUCCESS,
            amount=value,
            currency=account.currency,
            note=reason[:255],
            completed_at=timezone.now(),
        )
        _entry_write(account=account, txn=txn, kind=LedgerEntry.Kind.DEPOSIT, amount=value)
        transaction.on_commit(lambda: status_cache_store(transaction_id=txn.id))
    return txn


def transaction_refund(*, transaction_id: TransactionId, reason: str = "") -> Transaction:
    """Gives back the money of a SUCCESS activation (staff decision), once per transaction."""
    original = Transaction.objects.filter(pk=transaction_id, kind__in=ACTIVATION_KINDS).first()
    if original is None:
        raise NotFound("No such activation transaction.", code="transaction_not_found")
    with transaction.atomic():
        account = _account_lock(original.account_id)
        original.refresh_from_db()
        if original.status != Transaction.Status.SUCCESS:
            raise Conflict("Only a successful activation can be refunded.", code="not_refundable")
        if Transaction.objects.filter(
            kind=Transaction.Kind.REFUND, reference=f"refund:{original.pk}"
        ).exists():
            raise Conflict("This transaction was refunded already.", code="already_refunded")
        refund = Transaction.objects.create(
            account=account,
            kind=Transaction.Kind.REFUND,
            status=Transaction.Status.SUCCESS,
            amount=original.amount,
            currency=original.currency,
            offer=original.offer,
            reference=f"refund:{original.pk}",
            note=reason[:255],
            completed_at=timezone.now(),
        )
        _entry_write(account=account, txn=refund, kind=LedgerEntry.Kind.REFUND, amount=original.amount)
        transaction.on_commit(lambda: status_cache_store(transaction_id=refund.id))
    return refund


# --- Activation requests -----------------------------------------------------------------------------


def activation_request(
    *,
    user: User,
    offer_id: int,
    kind: str = Transaction.Kind.ACTIVATION,
    partner: Partner | None = None,
    reference: str = "",
    idempotency_key: str = "",
    request_hash: str = "",
    transaction_id: uuid.UUID | None = None,
) -> Transaction:
    """Places a hold for the offer's price and creates a PENDING transaction (with ``transaction_id`` when
    given); the activation task runs after commit. 404 for an unknown or inactive offer, 400
    ``insufficient_balance``."""
    from herald.wallet.tasks import activation_run_task

    offer = Offer.objects.filter(pk=offer_id, is_active=True).first()
    if offer is None:
        raise NotFound(f"There is no active offer {offer_id}.", code="offer_not_found")
    fields: dict[str, Any] = {
        "id": transaction_id or uuid.uuid4(),
        "kind": kind,
        "currency": offer.currency,
        "offer": offer,
        "partner": partner,
        "reference": reference,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
    }
    # no savepoint of its own (two statements fewer when nested): a refusal leaves the block first, as
    # it wrote nothing, so a caller that catches it keeps a usable transaction
    refusal: InsufficientBalance | None = None
    with transaction.atomic(savepoint=False):
        txn = ledger.hold_open(user_id=user.pk, amount=offer.price, now=timezone.now(), **fields)
        if txn is None:
            refusal = _hold_refusal(user=user, offer=offer)
            if refusal is None:  # a deposit landed after the UPDATE: under the account's lock it fits now
                txn = ledger.hold_open(user_id=user.pk, amount=offer.price, now=timezone.now(), **fields)
        if txn is not None:
            transaction.on_commit(lambda: status_cache_store(transaction_id=txn.id, transaction=txn))
            transaction.on_commit(lambda: activation_run_task.delay(str(txn.id)))
    if txn is None:
        raise refusal or RuntimeError(f"the hold for {offer.price} did not fit under the account's lock")
    return txn


def _hold_refusal(*, user: User, offer: Offer) -> InsufficientBalance | None:
    """Why the hold did not fit, read under the account's lock; None when it fits after all (a deposit
    committed after the refused UPDATE)."""
    account = Account.objects.select_for_update().filter(user=user).first()
    available = account.balance - account.held if account is not None else Decimal("0.00")
    if available >= offer.price:
        return None
    return InsufficientBalance(
        f"The offer costs {offer.price} {offer.currency}; the available balance is {available}.",
        price=str(offer.price),
        available=str(available),
    )


def activation_request_idempotent(
    *, user: User, offer_id: int, idempotency_key: str, kind: str = Transaction.Kind.ACTIVATION
) -> dict[str, Any]:
    """``activation_request`` once per (user, key): the same key and payload get the first answer,
    the same key with another payload 409 ``idempotency_key_reused``."""
    digest = _request_hash({"kind": kind, "offer_id": offer_id})
    record = IdempotencyRecord.objects.filter(user=user, key=idempotency_key).first()
    if record is not None:
        return _idempotent_replay(record=record, digest=digest)
    try:
        with transaction.atomic():
            # the key first: a concurrent request with it waits here, then replays this answer
            transaction_id = uuid.uuid4()
            record = IdempotencyRecord.objects.create(
                user=user,
                key=idempotency_key,
                request_hash=digest,
                response={"transaction_id": str(transaction_id), "status": Transaction.Status.PENDING.value},
            )
            activation_request(
                user=user,
                offer_id=offer_id,
                kind=kind,
                idempotency_key=idempotency_key,
                transaction_id=transaction_id,
            )
    except IntegrityError:  # a concurrent request with the same key committed first
        record = IdempotencyRecord.objects.get(user=user, key=idempotency_key)
        return _idempotent_replay(record=record, digest=digest)
    return dict(record.response)


def _idempotent_replay(*, record: IdempotencyRecord, digest: str) -> dict[str, Any]:
    if record.request_hash != digest:
        raise Conflict(
            "This Idempotency-Key was used for a different request.", code="idempotency_key_reused"
        )
    return dict(record.response)


def subscription_renew_request(*, user: User, offer_id: int, idempotency_key: str = "") -> dict[str, Any]:
    """Renews an offer the user has (404 if they never had it): a RENEWAL transaction like an activation."""
    if not Subscription.objects.filter(user=user, offer_id=offer_id).exists():
        raise NotFound(f"You have no subscription to offer {offer_id}.", code="subscription_not_found")
    if idempotency_key:
        return activation_request_idempotent(
            user=user, offer_id=offer_id, idempotency_key=idempotency_key, kind=Transaction.Kind.RENEWAL
        )
    txn = activation_request(user=user, offer_id=offer_id, kind=Transaction.Kind.RENEWAL)
    return {"transaction_id": str(txn.id), "status": txn.status}


def subscription_auto_renew_set(*, user: User, subscription_id: int, auto_renew: bool) -> Subscription:
    subscription = Subscription.objects.filter(user=user, pk=subscription_id).select_related("offer").first()
    if subscription is None:
        raise NotFound("You have no such subscription.", code="subscription_not_found")
    subscription.auto_renew = auto_renew
    subscription.save(update_fields=["auto_renew", "updated_at"])
    return subscription


def partner_activation_request(
    *, partner: Partner, user_id: int, offer_id: int, amount: Decimal | None, reference: str
) -> Transaction:
    """A partner activates an offer for a customer, paid from the customer's balance at the server's
    price. The partner's reference makes the call idempotent; reused with another payload -> 409."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise InvalidInput(f"There is no customer {user_id}.", code="user_not_found")
    offer = Offer.objects.filter(pk=offer_id, is_active=True).first()
    if offer is None:
        raise InvalidInput(f"There is no active offer {offer_id}.", code="offer_not_found")
    if amount is not None and amount != offer.price:
        raise InvalidInput(
            f"amount {amount} differs from the offer's price {offer.price}; the server's price applies.",
            code="amount_mismatch",
        )
    digest = _request_hash({"user_id": user_id, "offer_id": offer_id})
    reference = reference or f"P-{secrets.token_hex(8).upper()}"
    existing = Transaction.objects.filter(partner=partner, reference=reference).first()
    if existing is None:
        try:
            with transaction.atomic():
                return activation_request(
                    user=user,
                    offer_id=offer_id,
                    kind=Transaction.Kind.PARTNER_ACTIVATION,
                    partner=partner,
                    reference=reference,
                    request_hash=digest,
                )
        except IntegrityError:  # the same reference committed concurrently
            existing = Transaction.objects.get(partner=partner, reference=reference)
    if existing.request_hash != digest:
        raise Conflict("This reference was used for a different request.", code="reference_reused")
    return existing


# --- Activation outcomes -----------------------------------------------------------------------------


def _transaction_finish(
    *, transaction_id: TransactionId, status: str, external_reference: str = "", error: str = ""
) -> bool:
    """Moves a PENDING transaction to SUCCESS (posting its hold) or FAILED (voiding it), exactly once.
    Returns False when it had already ended (a repeated or late answer changes nothing)."""
    now = timezone.now()
    with transaction.atomic():
        ended = ledger.hold_resolve(
            transaction_id=transaction_id,
            status=status,
            now=now,
            external_reference=external_reference,
            error=error,
        )
        if ended is None:
            return False
        txn, account = ended
        if status == Transaction.Status.SUCCESS and txn.offer_id is not None:
            _subscription_extend(user_id=account.user_id, offer_id=txn.offer_id, now=now)
        if txn.partner_id is not None:
            _partner_callback_create(txn=txn, status=status)
        transaction.on_commit(lambda: status_cache_store(transaction_id=txn.pk, transaction=txn))
    ACTIVATIONS.labels(kind=txn.kind, status=status).inc()
    ACTIVATION_DURATION.labels(status=status).observe((now - txn.created_at).total_seconds())
    return True


def activation_complete(*, transaction_id: TransactionId, external_reference: str = "") -> bool:
    return _transaction_finish(
        transaction_id=transaction_id,
        status=Transaction.Status.SUCCESS,
        external_reference=external_reference,
    )


def activation_fail(*, transaction_id: TransactionId, error: str) -> bool:
    return _transaction_finish(transaction_id=transaction_id, status=Transaction.Status.FAILED, error=error)


def _subscription_extend(*, user_id: int, offer_id: int, now: datetime) -> None:
    """Extends the user's subscription by the offer's validity from its expiry (or from now, when it has
    lapsed) in one UPDATE; the first purchase creates it."""
    validity = timedelta(days=Offer.objects.values_list("validity_days", flat=True).get(pk=offer_id))
    subscriptions = Subscription.objects.filter(user_id=user_id, offer_id=offer_id)
    expires_at = Greatest(F("expires_at"), Value(now, output_field=DateTimeField())) + validity
    if subscriptions.update(expires_at=expires_at, updated_at=now):
        return
    try:
        with transaction.atomic():  # a savepoint: a concurrent first purchase may create it first
            Subscription.objects.create(
                user_id=user_id, offer_id=offer_id, activated_at=now, expires_at=now + validity
            )
    except IntegrityError:  # it did: extend the one it created
        subscriptions.update(expires_at=expires_at, updated_at=now)


@dataclass(frozen=True)
class AttemptOutcome:
    finished: bool
    retry_in: float | None = None


def activation_backoff(*, attempt: int) -> float:
    """Exponential backoff with jitter: base * 2**(attempt-1), capped, times 0.5..1.5."""
    delay = min(
        settings.WALLET_ACTIVATION_BACKOFF_MAX_SECONDS,
        settings.WALLET_ACTIVATION_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0),
    )
    return delay * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not a secret


def activation_attempt(
    *, transaction_id: TransactionId, client: ActivationClient | None = None
) -> AttemptOutcome:
    """One call to the activation system for a PENDING transaction, outside any database transaction.
    A transaction that already ended is left alone, so a repeated task does nothing."""
    txn = Transaction.objects.select_related("offer", "account").filter(pk=transaction_id).first()
    if txn is None or txn.status != Transaction.Status.PENDING or txn.offer is None:
        return AttemptOutcome(finished=True)
    client = client or ActivationClient()
    number = txn.attempts + 1
    Transaction.objects.filter(pk=txn.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    started = time.perf_counter()
    try:
        result = client.activate(
            reference=str(txn.pk), offer_code=txn.offer.external_code, customer_id=txn.account.user_id
        )
    except ActivationError as exc:
        elapsed = time.perf_counter() - started
        EXTERNAL_CALL_DURATION.labels(outcome=exc.kind).observe(elapsed)
        EXTERNAL_ERRORS.labels(kind=exc.kind, permanent=str(exc.permanent).lower()).inc()
        ActivationAttempt.objects.create(
            transaction=txn,
            number=number,
            duration_ms=int(elapsed * 1000),
            outcome="rejected" if exc.permanent else "transient",
            error=exc.message[:2000],
        )
        if exc.permanent:
            activation_fail(transaction_id=txn.pk, error=exc.message)
            return AttemptOutcome(finished=True)
        if number >= settings.WALLET_ACTIVATION_MAX_ATTEMPTS:
            _activation_settle_from_external(
                txn=txn, client=client, error=f"No answer after {number} attempts: {exc.message}"
            )
            return AttemptOutcome(finished=True)
        Transaction.objects.filter(pk=txn.pk).update(last_error=exc.message[:2000])
        return AttemptOutcome(finished=False, retry_in=activation_backoff(attempt=number))
    elapsed = time.perf_counter() - started
    EXTERNAL_CALL_DURATION.labels(outcome="success").observe(elapsed)
    ActivationAttempt.objects.create(
        transaction=txn, number=number, duration_ms=int(elapsed * 1000), outcome="success"
    )
    activation_complete(transaction_id=txn.pk, external_reference=result.external_reference)
    return AttemptOutcome(finished=True)


def _external_state(*, txn: Transaction, client: ActivationClient) -> ActivationResult | str | None:
    """What the activation system knows of the transaction: a result, None (never heard of it), or
    "unknown" when it cannot be asked right now."""
    try:
        return client.status(reference=str(txn.pk))
    except ActivationError as exc:
        EXTERNAL_ERRORS.labels(kind=exc.kind, permanent=str(exc.permanent).lower()).inc()
        return "unknown"


def _activation_settle_from_external(*, txn: Transaction, client: ActivationClient, error: str) -> None:
    # the last answer may have been lost after the system did activate: ask before refunding
    state = _external_state(txn=txn, client=client)
    if isinstance(state, ActivationResult) and state.status == "ACTIVATED":
        activation_complete(transaction_id=txn.pk, external_reference=state.external_reference)
    else:
        activation_fail(transaction_id=txn.pk, error=error)


def activation_sweep(*, client: ActivationClient | None = None, now: datetime | None = None) -> int:
    """Drives transactions left PENDING too long (a lost task, a crash) to an end, asking the activation
    system first; returns how many it acted on. Safe to run twice and concurrently with the task."""
    from herald.wallet.tasks import activation_run_task

    client = client or ActivationClient()
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.WALLET_ACTIVATION_STALE_SECONDS)
    stale = list(
        Transaction.objects.filter(
            status=Transaction.Status.PENDING, kind__in=ACTIVATION_KINDS, updated_at__lt=cutoff
        ).order_by("updated_at")[:200]
    )
    for txn in stale:
        state = _external_state(txn=txn, client=client)
        exhausted = txn.attempts >= settings.WALLET_ACTIVATION_MAX_ATTEMPTS
        if isinstance(state, ActivationResult) and state.status == "ACTIVATED":
            activation_complete(transaction_id=txn.pk, external_reference=state.external_reference)
        elif isinstance(state, ActivationResult) and state.status == "REJECTED":
            activation_fail(transaction_id=txn.pk, error="The activation system rejected the activation.")
        elif exhausted:
            activation_fail(
                transaction_id=txn.pk, error=f"Still pending after {txn.attempts} attempts; refunded."
            )
        else:  # never reached the system, or it cannot say: try again through the task
            Transaction.objects.filter(pk=txn.pk, status=Transaction.Status.PENDING).update(
                updated_at=timezone.now()
            )
            activation_run_task.delay(str(txn.pk))
    return len(stale)


# --- Offers ------------------------------------------------------------------------------------------


def offer_create(
    *,
    name: str,
    price: Decimal | str,
    external_code: str,
    validity_days: int = 30,
    description: str = "",
    currency: str | None = None,
    is_active: bool = True,
) -> Offer:
    if not name.strip() or not external_code.strip():
        raise InvalidInput("name and external_code must not be blank.", code="invalid_offer")
    if validity_days < 1:
        raise InvalidInput("validity_days must be at least 1.", code="invalid_offer")
    offer = Offer.objects.create(
        name=name.strip(),
        description=description,
        price=money(price, field="price"),
        currency=(currency or settings.WALLET_CURRENCY).upper(),
        validity_days=validity_days,
        external_code=external_code.strip(),
        is_active=is_active,
    )
    transaction.on_commit(offers_cache_clear)
    return offer


def offer_update(*, offer: Offer, **changes: Any) -> Offer:
    """Changes an offer (price, activity, texts); the cached offer list is refreshed on commit."""
    if "price" in changes:
        changes["price"] = money(changes["price"], field="price")
    if "validity_days" in changes and changes["validity_days"] < 1:
        raise InvalidInput("validity_days must be at least 1.", code="invalid_offer")
    for field, value in changes.items():
        setattr(offer, field, value)
    offer.save()
    transaction.on_commit(offers_cache_clear)
    return offer


# --- Partners ----------------------------------------------------------------------------------------


def partner_secret(partner: Partner) -> str:
    try:
        return decrypt(partner.secret_encrypted)
    except DecryptionError as exc:  # keys rotated away: the partner needs a new secret
        raise InvalidInput("The partner's secret cannot be read.", code="partner_secret_unreadable") from exc


def partner_create(*, name: str, callback_url: str = "") -> tuple[Partner, str]:
    """A partner and its signing secret (returned here only; stored encrypted)."""
    if not name.strip():
        raise InvalidInput("name must not be blank.", code="invalid_partner")
    if callback_url and not callback_url.startswith(("https://", "http://")):
        raise InvalidInput("callback_url must be an http(s) URL.", code="invalid_callback_url")
    secret = f"psk_{secrets.token_urlsafe(32)}"
    partner = Partner.objects.create(
        name=name.strip(),
        key=f"pk_{secrets.token_hex(12)}",
        secret_encrypted=encrypt(secret),
        callback_url=callback_url,
    )
    return partner, secret


def signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"{timestamp}.{raw body}"``: partners sign requests, Herald signs callbacks."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _partner_callback_create(*, txn: Transaction, status: str) -> None:
    from herald.wallet.tasks import partner_callback_deliver_task

    partner = txn.partner
    if partner is None or not partner.callback_url:
        return
    payload = {
        "event": "transaction.status_changed",
        "transaction_id": str(txn.pk),
        "reference": txn.reference,
        "status": status,
        "user_id": txn.account.user_id,
        "offer_id": txn.offer_id,
        "amount": str(txn.amount),
        "currency": txn.currency,
        "external_reference": txn.external_reference,
    }
    callback, created = PartnerCallback.objects.get_or_create(
        transaction=txn, status=status, defaults={"partner": partner, "payload": payload}
    )
    if created:
        transaction.on_commit(lambda: partner_callback_deliver_task.delay(callback.pk))


def partner_callback_deliver(*, callback_id: int) -> float | None:
    """POSTs one pending callback, signed, and records the attempt. Returns the retry delay, or None
    when done (delivered, given up, or already done by an earlier run)."""
    callback = PartnerCallback.objects.select_related("partner").filter(pk=callback_id).first()
    if callback is None or callback.state != PartnerCallback.State.PENDING:
        return None
    number = callback.attempts + 1
    PartnerCallback.objects.filter(pk=callback.pk).update(attempts=F("attempts") + 1)
    body = json.dumps(callback.payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    signature = signature_compute(secret=partner_secret(callback.partner), timestamp=timestamp, body=body)
    started = time.perf_counter()
    status_code: int | None = None
    error = ""
    try:
        # a staff-entered URL: the guarded client refuses internal addresses, and redirects are not followed
        with guarded_client(
            timeout=httpx.Timeout(settings.WALLET_PARTNER_CALLBACK_TIMEOUT_SECONDS)
        ) as client:
            response = client.post(
                callback.partner.callback_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Herald-Timestamp": timestamp,
                    "X-Herald-Signature": signature,
                },
                follow_redirects=False,
            )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    PartnerCallbackAttempt.objects.create(
        callback=callback,
        number=number,
        status_code=status_code,
        error=error[:2000],
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    if not error:
        PartnerCallback.objects.filter(pk=callback.pk).update(
            state=PartnerCallback.State.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        return None
    logger.warning("partner callback %s attempt %s failed: %s", callback.pk, number, error)
    if number >= settings.WALLET_PARTNER_CALLBACK_MAX_ATTEMPTS:
        PartnerCallback.objects.filter(pk=callback.pk).update(
            state=PartnerCallback.State.FAILED, last_error=error
        )
        return None
    PartnerCallback.objects.filter(pk=callback.pk).update(last_error=error)
    return min(3600.0, 10.0 * 2 ** (number - 1)) * random.uniform(0.5, 1.5)  # noqa: S311


# --- Expiring subscriptions --------------------------------------------------------------------------


def subscriptions_expiring_process(*, now: datetime | None = None) -> int:
    """Daily: each subscription expiring within ``WALLET_EXPIRY_NOTICE_DAYS`` gets one action per expiry:
    auto-renew from the balance (or a notice saying why not), otherwise a notice. Returns actions taken."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.WALLET_EXPIRY_NOTICE_DAYS)
    due = Subscription.objects.filter(expires_at__gt=now, expires_at__lte=horizon).select_related(
        "user", "offer"
    )
    acted = 0
    for subscription in due:
        if ExpiryNotice.objects.filter(
            subscription=subscription, expires_at=subscription.expires_at
        ).exists():
            continue
        try:
            with transaction.atomic():
                action, detail = _subscription_expiry_act(subscription=subscription)
                ExpiryNotice.objects.create(
                    subscription=subscription,
                    expires_at=subscription.expires_at,
                    action=action,
                    detail=detail[:255],
                )
                _expiry_notify(subscription=subscription, action=action, detail=detail)
        except IntegrityError:  # a concurrent run took this one
            continue
        acted += 1
    return acted


def _subscription_expiry_act(*, subscription: Subscription) -> tuple[str, str]:
    if not subscription.auto_renew:
        return ExpiryNotice.Action.NOTIFIED, ""
    if not subscription.offer.is_active:
        return ExpiryNotice.Action.RENEWAL_REFUSED, "The offer is no longer available."
    try:
        with transaction.atomic():
            txn = activation_request(
                user=subscription.user,
                offer_id=subscription.offer_id,
                kind=Transaction.Kind.RENEWAL,
                idempotency_key=f"auto-renew:{subscription.pk}:{subscription.expires_at.isoformat()}",
            )
    except (InvalidInput, NotFound) as exc:
        return ExpiryNotice.Action.RENEWAL_REFUSED, exc.message
    return ExpiryNotice.Action.RENEWING, str(txn.pk)


def _expiry_notify(*, subscription: Subscription, action: str, detail: str) -> None:
    offer = subscription.offer
    when = f"{subscription.expires_at:%Y-%m-%d %H:%M} UTC"
    if action == ExpiryNotice.Action.RENEWING:
        subject = f"{offer.name} is being renewed"
        body = (
            f"Your {offer.name} expires on {when}; we are renewing it from your balance "
            f"({offer.price} {offer.currency})."
        )
    elif action == ExpiryNotice.Action.RENEWAL_REFUSED:
        subject = f"{offer.name} could not be renewed"
        body = f"Your {offer.name} expires on {when} and could not be renewed automatically: {detail}"
    else:
        subject = f"{offer.name} expires soon"
        body = f"Your {offer.name} expires on {when}. Renew it to keep it active."
    notification_send(
        user_id=subscription.user_id,
        subject=subject,
        body=body,
        dedupe_key=f"wallet.expiry:{subscription.pk}:{int(subscription.expires_at.timestamp())}",
    )
