"""Periodic housekeeping for accounts (schedule ``accounts_token_families_purge_task`` daily in beat)."""

from __future__ import annotations

from celery import shared_task

from herald.accounts.services import token_families_purge_expired


@shared_task(name="accounts.token_families_purge")
def accounts_token_families_purge_task() -> int:
    return token_families_purge_expired()
