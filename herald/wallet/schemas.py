"""Request and response bodies of the wallet API."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import Field

from herald.core.schemas import Text

Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Id = Annotated[int, Field(ge=1, le=2**62)]


class OfferOut(Schema):
    id: int
    name: str
    description: str
    price: Decimal
    currency: str
    validity_days: int
    is_active: bool


class OfferIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    description: Annotated[Text, Field(max_length=5000)] = ""
    price: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    validity_days: Annotated[int, Field(ge=1, le=3650)] = 30
    external_code: Annotated[Text, Field(min_length=1, max_length=64)]
    is_active: bool = True


class OfferPatchIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=120)] | None = None
    description: Annotated[Text, Field(max_length=5000)] | None = None
    price: Amount | None = None
    validity_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    external_code: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    is_active: bool | None = None


class OfferIdIn(Schema):
    offer_id: Id


class BalanceOut(Schema):
    balance: Decimal
    held: Decimal
    available: Decimal
    currency: str


class SubscriptionOut(Schema):
    id: int
    offer_id: int
    offer_name: str
    activated_at: datetime
    expires_at: datetime
    auto_renew: bool


class TransactionOut(Schema):
    id: uuid.UUID
    kind: str
    status: str
    amount: Decimal
    currency: str
    offer_id: int | None
    reference: str
    external_reference: str
    attempts: int
    last_error: str
    created_at: datetime
    completed_at: datetime | None


class TransactionPageOut(Schema):
    items: list[TransactionOut]
    count: int
    page: int
    pages: int


class ActivationOut(Schema):
    transaction_id: uuid.UUID
    status: str


class StatusOut(Schema):
    transaction_id: uuid.UUID
    status: str
    kind: str
    amount: Decimal
    currency: str
    offer_id: int | None
    reference: str
    external_reference: str
    last_error: str


class PartnerActivateIn(Schema):
    user_id: Id
    offer_id: Id
    amount: Amount | None = None
    reference: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")] | None = (
        None
    )


class PartnerActivateOut(Schema):
    reference: str
    transaction_id: uuid.UUID
    status: str


class PartnerValidateOut(Schema):
    reference: str
    is_valid: bool
    transaction_id: uuid.UUID | None = None
    user_id: int | None = None
    offer_id: int | None = None
    status: str | None = None
    error: str | None = None


class CustomerIn(Schema):
    username: Annotated[Text, Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")]
    password: Annotated[Text, Field(min_length=8, max_length=128)]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]


class CustomerOut(Schema):
    id: int
    username: str
    email: str


class DepositIn(Schema):
    user_id: Id
    amount: Amount
    reason: Annotated[Text, Field(max_length=255)] = ""


class DepositOut(Schema):
    transaction_id: uuid.UUID
    balance: Decimal
    currency: str


class RefundIn(Schema):
    transaction_id: uuid.UUID
    reason: Annotated[Text, Field(max_length=255)] = ""


class PartnerIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    callback_url: Annotated[str, Field(max_length=500, pattern=r"^https?://[^\s]+$")] | None = None


class PartnerCreatedOut(Schema):
    id: int
    name: str
    key: str
    secret: str = Field(description="Shown once: keep it to sign requests.")
    callback_url: str


class SubscriptionPatchIn(Schema):
    auto_renew: bool


class ContactIn(Schema):
    phone: Annotated[str, Field(pattern=r"^(\+?[0-9]{6,15})?$", description="E.164-style; empty to remove.")]


class ContactOut(Schema):
    phone: str
    telegram_linked: bool
