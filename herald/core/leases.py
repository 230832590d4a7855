"""Leases: at most ``places`` holders of a name at a time, across processes, in the database.

A holder takes a free place, renews it while it works and gives it back when done. A place whose holder
stopped renewing is free once its time is up, and at once when its holder's process is known to be gone
(``herald.core.processes``). The outbox uses this to keep a bot to a couple of drains however many
wake-ups arrive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db.models import Q

from herald.core.models import Lease
from herald.core.processes import claimant_is_gone, new_claim_tag


@dataclass(frozen=True)
class Held:
    key: str
    holder: str


def _place(name: str, number: int) -> str:
    return f"{name}#{number}"


def lease_take(name: str, *, places: int, seconds: float) -> Held | None:
    """Take one of the ``places`` of ``name`` for ``seconds``; ``None`` when all are held."""
    keys = [_place(name, number) for number in range(places)]
    holder = new_claim_tag()
    holders = dict(Lease.objects.filter(key__in=keys).values_list("key", "holder"))
    missing = [key for key in keys if key not in holders]
    if missing:  # the name's first use: its places are made once, not written on every take
        Lease.objects.bulk_create([Lease(key=key) for key in missing], ignore_conflicts=True)
        holders.update(dict.fromkeys(missing, ""))
    now = time.time()
    for key in keys:
        free = Q(expires_at__lte=now)
        if claimant_is_gone(holders.get(key, "")):
            free |= Q(holder=holders[key])
        if Lease.objects.filter(free, key=key).update(holder=holder, expires_at=now + seconds):
            return Held(key, holder)
    return None


def lease_renew(held: Held, *, seconds: float) -> bool:
    """Keep the place ``seconds`` more; ``False`` if it was lost (its time ran out and another took it)."""
    return bool(
        Lease.objects.filter(key=held.key, holder=held.holder).update(expires_at=time.time() + seconds)
    )


def lease_give_back(held: Held) -> None:
    Lease.objects.filter(key=held.key, holder=held.holder).update(holder="", expires_at=0.0)
