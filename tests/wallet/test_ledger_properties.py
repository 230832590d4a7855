"""A hypothesis state machine over deposits, activations (with replayed keys), partner retries, successes,
failures, timeouts, late answers and refunds: after every step the balance is >= 0, the ledger sums to the
balance, holds add up to ``held``, each key or reference has one effect and each hold resolves once."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from herald.core.errors import Conflict, InvalidInput
from herald.wallet import services
from herald.wallet.models import Account, Hold, Transaction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
_machines = itertools.count()

KEYS = ["k1", "k2", "k3"]
REFERENCES = ["r1", "r2"]


class WalletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        n = next(_machines)
        self.user = UserFactory.create(username=f"machine-{n}")
        self.account = services.account_for_user(user=self.user)
        self.offers = [
            services.offer_create(name=f"o{n}a", price="3.00", external_code="A"),
            services.offer_create(name=f"o{n}b", price="7.50", external_code="B"),
        ]
        self.partner, _ = services.partner_create(name=f"p{n}")
        self.key_answers: dict[str, tuple[int, str]] = {}  # key -> (offer index, transaction id)
        self.reference_answers: dict[str, tuple[int, str]] = {}
        self.pending: list[str] = []
        self.succeeded: list[str] = []
        self.refunded: set[str] = set()
        self.expected_balance = Decimal("0.00")

    @rule(cents=st.integers(min_value=1, max_value=2_000))
    def deposit(self, cents: int) -> None:
        amount = Decimal(cents) / 100
        services.deposit_create(user=self.user, amount=amount)
        self.expected_balance += amount

    @rule(key=st.sampled_from(KEYS), offer=st.sampled_from([0, 1]))
    def activate_with_key(self, key: str, offer: int) -> None:
        try:
            answer = services.activation_request_idempotent(
                user=self.user, offer_id=self.offers[offer].pk, idempotency_key=key
            )
        except InvalidInput as exc:
            assert exc.code == "insufficient_balance"
            assert key not in self.key_answers
            return
        except Conflict:
            assert key in self.key_answers and self.key_answers[key][0] != offer
            return
        if key in self.key_answers:  # a replay: the first answer, no new effect
            assert self.key_answers[key] == (offer, answer["transaction_id"])
        else:
            self.key_answers[key] = (offer, answer["transaction_id"])
            self.pending.append(answer["transaction_id"])

    @rule(reference=st.sampled_from(REFERENCES), offer=st.sampled_from([0, 1]))
    def partner_activate(self, reference: str, offer: int) -> None:
        try:
            txn = services.partner_activation_request(
                partner=self.partner,
                user_id=self.user.pk,
                offer_id=self.offers[offer].pk,
                amount=None,
                reference=reference,
            )
        except InvalidInput as exc:
            assert exc.code == "insufficient_balance"
            return
        except Conflict:
            assert self.reference_answers[reference][0] != offer
            return
        if reference in self.reference_answers:
            assert self.reference_answers[reference] == (offer, str(txn.pk))
        else:
            self.reference_answers[reference] = (offer, str(txn.pk))
            self.pending.append(str(txn.pk))

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), outcome=st.sampled_from(["success", "failure", "timeout"]))
    def external_answers(self, data: st.DataObject, outcome: str) -> None:
        transaction_id = data.draw(st.sampled_from(self.pending))
        if outcome == "success":
            assert services.activation_complete(transaction_id=transaction_id, external_reference="E")
            self.succeeded.append(transaction_id)
            self.expected_balance -= Transaction.objects.get(pk=transaction_id).amount
        else:
            assert services.activation_fail(transaction_id=transaction_id, error=outcome)
        self.pending.remove(transaction_id)
        # the external system answers twice, or late: nothing more happens
        assert not services.activation_complete(transaction_id=transaction_id)
        assert not services.activation_fail(transaction_id=transaction_id, error="again")

    @precondition(lambda self: self.succeeded)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        transaction_id = data.draw(st.sampled_from(self.succeeded))
        try:
            refund = services.transaction_refund(transaction_id=transaction_id)
        except Conflict:
            assert transaction_id in self.refunded
            return
        assert transaction_id not in self.refunded
        self.refunded.add(transaction_id)
        self.expected_balance += refund.amount

    @invariant()
    def money_adds_up(self) -> None:
        account = Account.objects.get(pk=self.account.pk)
        # summed here, not with SUM(): SQLite adds decimals as floats
        entries = sum(account.entries.values_list("amount", flat=True), Decimal(0))
        active = sum(
            Hold.objects.filter(account=account, status="active").values_list("amount", flat=True), Decimal(0)
        )
        assert account.balance >= 0 and account.held >= 0 and account.balance >= account.held
        assert entries == account.balance == self.expected_balance
        assert account.held == active

    @invariant()
    def each_key_reference_and_hold_has_one_effect(self) -> None:
        transactions = Transaction.objects.filter(account_id=self.account.pk)
        assert transactions.filter(kind="activation").count() == len(self.key_answers)
        assert transactions.filter(kind="partner_activation").count() == len(self.reference_answers)
        holds = Hold.objects.filter(account_id=self.account.pk)
        assert (
            holds.filter(status="posted").count()
            == transactions.filter(kind__in=["activation", "partner_activation"], status="SUCCESS").count()
        )
        assert holds.filter(status="voided").count() == transactions.filter(status="FAILED").count()
        assert holds.filter(status="active").count() == len(self.pending)


def test_wallet_state_machine_never_loses_or_mints_money() -> None:
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
