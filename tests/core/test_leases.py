"""Leases: a few places per name across processes; freed when given back, when their time is up, or at
once when the holding process is gone."""

from __future__ import annotations

import pytest

from herald.core.leases import lease_give_back, lease_renew, lease_take
from herald.core.models import Lease
from herald.core.processes import claimant_is_gone
from tests.processes import tag_of_an_exited_process

pytestmark = pytest.mark.django_db


def test_at_most_the_given_number_of_holders_and_a_place_given_back_is_free() -> None:
    first = lease_take("drain:bot", places=2, seconds=30)
    second = lease_take("drain:bot", places=2, seconds=30)
    assert first is not None and second is not None and first.key != second.key
    assert lease_take("drain:bot", places=2, seconds=30) is None
    assert lease_take("drain:other-bot", places=2, seconds=30) is not None  # names are independent
    lease_give_back(first)
    third = lease_take("drain:bot", places=2, seconds=30)
    assert third is not None and third.key == first.key
    assert not lease_renew(first, seconds=30)  # the place is someone else's now
    assert lease_renew(third, seconds=30)


def test_a_place_whose_time_ran_out_is_taken_over() -> None:
    held = lease_take("drain:bot", places=1, seconds=30)
    assert held is not None and lease_take("drain:bot", places=1, seconds=30) is None
    Lease.objects.filter(key=held.key).update(expires_at=0.0)  # its holder stopped renewing long ago
    assert lease_take("drain:bot", places=1, seconds=30) is not None
    assert not lease_renew(held, seconds=30)


def test_a_place_held_by_a_dead_process_is_free_at_once() -> None:
    held = lease_take("drain:bot", places=1, seconds=3600)
    assert held is not None
    dead = tag_of_an_exited_process()
    assert claimant_is_gone(dead) and not claimant_is_gone(held.holder)
    assert lease_take("drain:bot", places=1, seconds=30) is None  # a live holder keeps it
    Lease.objects.filter(key=held.key).update(holder=dead)
    assert lease_take("drain:bot", places=1, seconds=30) is not None
    # another host's process cannot be checked from here: its place waits for its time to run out
    Lease.objects.filter(key=held.key).update(holder="0123@another-host:1", expires_at=9e9)
    assert lease_take("drain:bot", places=1, seconds=30) is None
