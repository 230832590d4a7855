"""Wallet endpoints at the seed's paths: offers, account, activation, partner (signed), manage (staff)."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Header, Query, Router
from ninja.responses import Status
from pydantic import Field

from herald.accounts.auth import api_auth, request_principal, staff_auth
from herald.accounts.models import User
from herald.accounts.services import user_create
from herald.core.errors import Forbidden, NotFound
from herald.core.schemas import ErrorOut
from herald.notify.services import contact_get, contact_set
from herald.wallet import selectors, services
from herald.wallet.cache import offers_cache_read, status_cache_read
from herald.wallet.models import Offer, Partner, Transaction
from herald.wallet.partner_auth import PartnerSignatureAuth
from herald.wallet.schemas import (
    ActivationOut,
    BalanceOut,
    ContactIn,
    ContactOut,
    CustomerIn,
    CustomerOut,
    DepositIn,
    DepositOut,
    OfferIdIn,
    OfferIn,
    OfferOut,
    OfferPatchIn,
    PartnerActivateIn,
    PartnerActivateOut,
    PartnerCreatedOut,
    PartnerIn,
    PartnerValidateOut,
    RefundIn,
    StatusOut,
    SubscriptionOut,
    SubscriptionPatchIn,
    TransactionOut,
    TransactionPageOut,
)

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]
USER_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut}


def _customer(request: HttpRequest) -> User:
    """The person calling; a service API key without an owner has no wallet."""
    user = request_principal(request).user
    if user is None:
        raise Forbidden("This endpoint is for customers.", code="customer_only")
    return user


# --- /api/v1/offers/ ---------------------------------------------------------------------------------

offers_router = Router(tags=["wallet: offers"], auth=api_auth())


@offers_router.get("/", response={200: list[OfferOut], **USER_ERRORS}, summary="Active offers (cached)")
def offers_list(request: HttpRequest) -> list[dict[str, Any]]:
    return offers_cache_read()


@offers_router.post(
    "/renew/",
    response={200: ActivationOut, 404: ErrorOut, 409: ErrorOut, **USER_ERRORS},
    summary="Renew an offer you have, from your balance",
)
def offers_renew(
    request: HttpRequest,
    payload: OfferIdIn,
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """404 when you never had the offer or it is gone; 400 ``insufficient_balance``."""
    return services.subscription_renew_request(
        user=_customer(request), offer_id=payload.offer_id, idempotency_key=idempotency_key or ""
    )


@offers_router.get("/{offer_id}/", response={200: OfferOut, 404: ErrorOut, **USER_ERRORS})
def offers_detail(request: HttpRequest, offer_id: int) -> Offer:
    offer = Offer.objects.filter(pk=offer_id, is_active=True).first() if 0 < offer_id < 2**62 else None
    if offer is None:
        raise NotFound(f"There is no active offer {offer_id}.", code="offer_not_found")
    return offer


# --- /api/v1/account/ --------------------------------------------------------------------------------

account_router = Router(tags=["wallet: account"], auth=api_auth())


@account_router.get("/balance/", response={200: BalanceOut, **USER_ERRORS})
def account_balance(request: HttpRequest) -> BalanceOut:
    account = services.account_for_user(user=_customer(request))
    return BalanceOut(
        balance=account.balance,
        held=account.held,
        available=account.balance - account.held,
        currency=account.currency,
    )


@account_router.get("/subscriptions/", response={200: list[SubscriptionOut], **USER_ERRORS})
def account_subscriptions(request: HttpRequest) -> list[SubscriptionOut]:
    return [
        SubscriptionOut(
            id=s.pk,
            offer_id=s.offer_id,
            offer_name=s.offer.name,
            activated_at=s.activated_at,
            expires_at=s.expires_at,
            auto_renew=s.auto_renew,
        )
        for s in selectors.subscriptions_of(user=_customer(request))
    ]


@account_router.patch(
    "/subscriptions/{subscription_id}/", response={200: SubscriptionOut, 404: ErrorOut, **USER_ERRORS}
)
def account_subscription_update(
    request: HttpRequest, subscription_id: int, payload: SubscriptionPatchIn
) -> SubscriptionOut:
    """Turn auto-renewal on or off: before expiry the daily job renews from your balance."""
    if not 0 < subscription_id < 2**62:
        raise NotFound("You have no such subscription.", code="subscription_not_found")
    s = services.subscription_auto_renew_set(
        user=_customer(request), subscription_id=subscription_id, auto_renew=payload.auto_renew
    )
    return SubscriptionOut(
        id=s.pk,
        offer_id=s.offer_id,
        offer_name=s.offer.name,
        activated_at=s.activated_at,
        expires_at=s.expires_at,
        auto_renew=s.auto_renew,
    )


@account_router.get("/contact/", response={200: ContactOut, **USER_ERRORS})
def account_contact(request: HttpRequest) -> ContactOut:
    """Where expiry notices go besides your email: SMS to this phone, Telegram once you link a chat."""
    contact = contact_get(user_id=_customer(request).pk)
    return ContactOut(phone=contact.phone, telegram_linked=contact.telegram_chat_id is not None)


@account_router.put("/contact/", response={200: ContactOut, **USER_ERRORS})
def account_contact_update(request: HttpRequest, payload: ContactIn) -> ContactOut:
    contact = contact_set(user_id=_customer(request).pk, phone=payload.phone)
    return ContactOut(phone=contact.phone, telegram_linked=contact.telegram_chat_id is not None)


@account_router.get("/transactions/", response={200: TransactionPageOut, **USER_ERRORS})
def account_transactions(
    request: HttpRequest,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TransactionPageOut:
    transactions = selectors.transactions_of(user=_customer(request))
    count = transactions.count()
    start = (page - 1) * page_size
    return TransactionPageOut(
        items=[TransactionOut.from_orm(t) for t in transactions[start : start + page_size]],
        count=count,
        page=page,
        pages=max(1, math.ceil(count / page_size)),
    )


@account_router.get(
    "/transactions/{transaction_id}/", response={200: TransactionOut, 404: ErrorOut, **USER_ERRORS}
)
def account_transaction(request: HttpRequest, transaction_id: uuid.UUID) -> Transaction:
    txn = selectors.transaction_of(user=_customer(request), transaction_id=transaction_id)
    if txn is None:
        raise NotFound("You have no such transaction.", code="transaction_not_found")
    return txn


# --- /api/v1/activation/ -----------------------------------------------------------------------------

activation_router = Router(tags=["wallet: activation"], auth=api_auth())


@activation_router.post(
    "/",
    response={200: ActivationOut, 404: ErrorOut, 409: ErrorOut, **USER_ERRORS},
    summary="Activate an offer (pays from your balance); the Idempotency-Key makes a retry safe",
)
def activation_create(
    request: HttpRequest,
    payload: OfferIdIn,
    idempotency_key: Annotated[IdempotencyKey, Header(alias="Idempotency-Key")],
) -> dict[str, Any]:
    """400 ``insufficient_balance``; 404 for an unknown or inactive offer; the same key again answers
    as the first time; the same key with another offer, 409 ``idempotency_key_reused``."""
    return services.activation_request_idempotent(
        user=_customer(request), offer_id=payload.offer_id, idempotency_key=idempotency_key
    )


@activation_router.get("/status/{transaction_id}/", response={200: StatusOut, 404: ErrorOut, **USER_ERRORS})
def activation_status(request: HttpRequest, transaction_id: uuid.UUID) -> dict[str, Any]:
    """From the cache first (one dict per transaction), then the database."""
    snapshot = status_cache_read(transaction_id=transaction_id)
    if snapshot is None or snapshot["user_id"] != _customer(request).pk:
        raise NotFound("You have no such transaction.", code="transaction_not_found")
    return snapshot


# --- /api/v1/partner/ --------------------------------------------------------------------------------

partner_router = Router(tags=["wallet: partner"], auth=PartnerSignatureAuth())
PARTNER_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 409: ErrorOut}


def _partner(request: HttpRequest) -> Partner:
    partner = request.auth  # type: ignore[attr-defined]
    if not isinstance(partner, Partner):
        raise Forbidden("This endpoint is for partners.", code="partner_only")
    return partner


@partner_router.post(
    "/activate/",
    response={200: PartnerActivateOut, 404: ErrorOut, **PARTNER_ERRORS},
    summary="Activate an offer for a customer, at the server's price; the reference makes it idempotent",
)
def partner_activate(request: HttpRequest, payload: PartnerActivateIn) -> PartnerActivateOut:
    """Signed: ``X-Partner-Key``, ``X-Partner-Timestamp`` (unix seconds, within 300 s) and
    ``X-Partner-Signature`` = hex HMAC-SHA256 of ``"{timestamp}.{raw body}"`` with the partner's secret.
    The customer's balance pays the offer's price; an ``amount`` that differs is 400 ``amount_mismatch``;
    the same ``reference`` again answers the first result, with another payload 409 ``reference_reused``."""
    txn = services.partner_activation_request(
        partner=_partner(request),
        user_id=payload.user_id,
        offer_id=payload.offer_id,
        amount=payload.amount,
        reference=payload.reference or "",
    )
    return PartnerActivateOut(reference=txn.reference, transaction_id=txn.pk, status=txn.status)


@partner_router.get("/validate/{reference}/", response={200: PartnerValidateOut, **PARTNER_ERRORS})
def partner_validate(request: HttpRequest, reference: str) -> PartnerValidateOut:
    """Signed as for activate (the body is empty). Only the calling partner's own references are found."""
    txn = selectors.partner_transaction_by_reference(partner=_partner(request), reference=reference[:100])
    if txn is None:
        return PartnerValidateOut(reference=reference, is_valid=False, error="Transaction not found")
    return PartnerValidateOut(
        reference=txn.reference,
        is_valid=True,
        transaction_id=txn.pk,
        user_id=txn.account.user_id,
        offer_id=txn.offer_id,
        status=txn.status,
    )


# --- /api/v1/manage/ (staff) -------------------------------------------------------------------------

manage_router = Router(tags=["wallet: manage"], auth=staff_auth())
STAFF_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut}


@manage_router.post("/customers", response={201: CustomerOut, 409: ErrorOut, **STAFF_ERRORS})
def manage_customer_create(request: HttpRequest, payload: CustomerIn) -> Status[CustomerOut]:
    with transaction.atomic():
        user = user_create(username=payload.username, email=payload.email, password=payload.password)
        services.account_for_user(user=user)
    return Status(201, CustomerOut(id=user.pk, username=user.username, email=user.email))


@manage_router.post("/offers", response={201: OfferOut, **STAFF_ERRORS})
def manage_offer_create(request: HttpRequest, payload: OfferIn) -> Status[Offer]:
    offer = services.offer_create(**payload.dict())
    return Status(201, offer)


@manage_router.patch("/offers/{offer_id}", response={200: OfferOut, 404: ErrorOut, **STAFF_ERRORS})
def manage_offer_update(request: HttpRequest, offer_id: int, payload: OfferPatchIn) -> Offer:
    offer = Offer.objects.filter(pk=offer_id).first() if 0 < offer_id < 2**62 else None
    if offer is None:
        raise NotFound(f"There is no offer {offer_id}.", code="offer_not_found")
    return services.offer_update(offer=offer, **payload.dict(exclude_none=True))


@manage_router.post("/deposits", response={201: DepositOut, **STAFF_ERRORS})
def manage_deposit_create(request: HttpRequest, payload: DepositIn) -> Status[DepositOut]:
    user = User.objects.filter(pk=payload.user_id).first()
    if user is None:
        raise services.InvalidInput(f"There is no customer {payload.user_id}.", code="user_not_found")
    txn = services.deposit_create(user=user, amount=payload.amount, reason=payload.reason)
    txn.account.refresh_from_db()
    return Status(
        201, DepositOut(transaction_id=txn.pk, balance=txn.account.balance, currency=txn.account.currency)
    )


@manage_router.post("/refunds", response={201: DepositOut, 404: ErrorOut, 409: ErrorOut, **STAFF_ERRORS})
def manage_refund_create(request: HttpRequest, payload: RefundIn) -> Status[DepositOut]:
    """Gives back the money of a successful activation, once."""
    refund = services.transaction_refund(transaction_id=payload.transaction_id, reason=payload.reason)
    refund.account.refresh_from_db()
    return Status(
        201, DepositOut(transaction_id=refund.pk, balance=refund.account.balance, currency=refund.currency)
    )


@manage_router.post("/partners", response={201: PartnerCreatedOut, **STAFF_ERRORS})
def manage_partner_create(request: HttpRequest, payload: PartnerIn) -> Status[PartnerCreatedOut]:
    """The secret is in this answer only; Herald stores it encrypted and never shows it again."""
    partner, secret = services.partner_create(name=payload.name, callback_url=payload.callback_url or "")
    return Status(
        201,
        PartnerCreatedOut(
            id=partner.pk,
            name=partner.name,
            key=partner.key,
            secret=secret,
            callback_url=partner.callback_url,
        ),
    )
