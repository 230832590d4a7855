"""Offers, accounts with a ledger (entries and holds), transactions with their attempts, subscriptions,
idempotency records, partners with their signed callbacks, and the expiry notices already given.

Money is ``Decimal(12, 2)`` in the account's currency. The database itself refuses a negative balance,
negative holds and holds larger than the balance (CHECK constraints), whatever the code does.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from herald.core.models import TimeStampedModel


class Offer(TimeStampedModel):
    """Something a customer can buy, such as a telecom bundle, activated at the external system."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    validity_days = models.PositiveIntegerField(default=30)
    external_code = models.CharField(max_length=64, help_text="The offer's code at the activation system.")
    is_active = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="wallet_offer_price_positive"),
            models.CheckConstraint(condition=Q(validity_days__gt=0), name="wallet_offer_validity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price} {self.currency})"


class Account(TimeStampedModel):
    """One per user. ``held`` is the sum of active holds; ``available = balance - held``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    currency = models.CharField(max_length=3, default="EUR")
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    held = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_account_balance_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="wallet_account_held_not_negative"),
            models.CheckConstraint(condition=Q(balance__gte=F("held")), name="wallet_account_held_covered"),
        ]

    def __str__(self) -> str:
        return f"account of {self.user_id}: {self.balance} {self.currency}"

    @property
    def available(self) -> object:
        return self.balance - self.held


class Partner(TimeStampedModel):
    """A partner system that activates offers for customers, signing each request with its secret."""

    name = models.CharField(max_length=120)
    key = models.CharField(max_length=64, unique=True, help_text="Public key id sent as X-Partner-Key.")
    secret_encrypted = models.TextField(editable=False)
    callback_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Transaction(TimeStampedModel):
    """A money movement; activations and renewals run PENDING -> SUCCESS | FAILED exactly once."""

    class Kind(models.TextChoices):
        ACTIVATION = "activation"
        RENEWAL = "renewal"
        PARTNER_ACTIVATION = "partner_activation"
        DEPOSIT = "deposit"
        REFUND = "refund"

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SUCCESS = "SUCCESS"
        FAILED = "FAILED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # status is looked up through the (status, updated_at) index; a second index on it would be one more
    # to write on every insert and status change
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    external_reference = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    note = models.CharField(max_length=255, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_transaction_amount_positive"),
            # the partner's reference makes its call idempotent
            models.UniqueConstraint(
                fields=["partner", "reference"],
                condition=Q(partner__isnull=False),
                name="wallet_transaction_partner_reference_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            # equality lookups only (refunds, partners), so no LIKE index beside it as db_index would add
            models.Index(fields=["reference"], name="wallet_transaction_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} {self.status}"


class ActivationAttempt(models.Model):
    """One call to the activation system for a transaction, and how it ended."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="activation_attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16)  # success | rejected | transient
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["transaction", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class Hold(models.Model):
    """Money set aside for a pending transaction; it resolves once: posted (spent) or voided (released)."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        POSTED = "posted"
        VOIDED = "voided"

    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="hold")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_hold_amount_positive")]

    def __str__(self) -> str:
        return f"hold {self.amount} {self.status}"


class LedgerEntry(models.Model):
    """An immutable balance change; the sum of an account's entries is its balance."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        DEBIT = "debit"
        REFUND = "refund"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    # indexed by the (transaction, kind) unique constraint
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Signed: credits positive, debits negative."
    )
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            # one entry per transaction and kind: a repeated post or refund cannot write a second one
            models.UniqueConstraint(fields=["transaction", "kind"], name="wallet_entry_once_per_transaction"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Subscription(TimeStampedModel):
    """An offer a user has active until ``expires_at``; renewals extend it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="subscriptions")
    activated_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    auto_renew = models.BooleanField(default=False)

    class Meta:
        ordering = ["expires_at"]
        constraints = [models.UniqueConstraint(fields=["user", "offer"], name="wallet_subscription_unique")]

    def __str__(self) -> str:
        return f"{self.offer_id} for {self.user_id} until {self.expires_at:%Y-%m-%d}"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``, and a hash of its payload."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="wallet_idempotency_unique")]

    def __str__(self) -> str:
        return self.key


class PartnerCallback(TimeStampedModel):
    """A signed notice to the partner's URL that one of its transactions changed status."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="callbacks")
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="callbacks")
    status = models.CharField(max_length=8)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transaction", "status"], name="wallet_callback_once_per_status")
        ]

    def __str__(self) -> str:
        return f"callback {self.status} to {self.partner_id}: {self.state}"


class PartnerCallbackAttempt(models.Model):
    callback = models.ForeignKey(PartnerCallback, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["callback", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"


class ExpiryNotice(models.Model):
    """What the daily job did about one subscription expiring at one time: it does it only once."""

    class Action(models.TextChoices):
        NOTIFIED = "notified"
        RENEWING = "renewing"
        RENEWAL_REFUSED = "renewal_refused"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="expiry_notices")
    expires_at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "expires_at"], name="wallet_expiry_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.action} for {self.subscription_id}"
