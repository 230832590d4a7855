"""The admin's start page shows each bot's real figures: users, requests, messages today, blocked, backlog."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from herald.accounts.models import User
from herald.bots.wakeups import publish_pending
from herald.telegram.sandbox import services as sandbox
from tests.bots.conftest import Api
from tests.bots.test_conversations import hosted, write
from tests.factories import UserFactory
from tests.telegram.sandbox.helpers import SandboxBot, deliver_pending_updates, sandbox_user

pytestmark = pytest.mark.django_db(transaction=True)


def _dashboard_rows(page: str) -> dict[str, list[str]]:
    """The dashboard table as {first cell: the other cells}."""
    section = page.split('id="bots-dashboard"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", section, flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


def test_staff_see_each_bots_figures_on_the_start_page(
    telegram: str, api: Api, shop_bot: SandboxBot, ann: int
) -> None:
    from config.celery import app as celery_app

    hosted(api, shop_bot, {"name": "hello", "flow_data": {"response": "Hello!"}, "is_default": True})
    bob = sandbox_user("Bob", username="bob")
    write(shop_bot, ann, "hi")
    write(shop_bot, bob, "hello")
    sandbox.sandbox_member_set(
        bot=sandbox.sandbox_bot_get(bot="shop_bot"),
        user=sandbox.sandbox_user_get(user_id=bob),
        status="kicked",
    )
    deliver_pending_updates(ignore_backoff=True)
    celery_app.conf.task_always_eager = False  # no worker: the broadcast's send stays queued
    try:
        api.post(f"/api/bots/{_bot_id(api)}/broadcasts", {"text": "Sale today!"})
    finally:
        # the webhook's wake-ups go to the broker (no worker), not run eagerly by its publisher thread later
        publish_pending()
        celery_app.conf.task_always_eager = True
    staff = Client()
    staff.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    page = staff.get("/admin/").content.decode()
    # users, requests (2 messages + 1 block), in today, out today, blocked, queued sends (Ann's broadcast)
    assert _dashboard_rows(page) == {"shop_bot (@shop_bot)": ["2", "3", "2", "2", "1", "1"]}


def test_the_figures_need_permission_to_view_bots(telegram: str, api: Api, shop_bot: SandboxBot) -> None:
    hosted(api, shop_bot)
    clerk = UserFactory.create(username="clerk", is_staff=True)
    client = Client()
    client.force_login(clerk)
    assert 'id="bots-dashboard"' not in client.get("/admin/").content.decode()
    clerk.user_permissions.add(Permission.objects.get(codename="view_telegrambot"))
    client.force_login(User.objects.get(pk=clerk.pk))
    assert "shop_bot (@shop_bot)" in _dashboard_rows(client.get("/admin/").content.decode())


def _bot_id(api: Api) -> str:
    bots = api.get("/api/bots").json()
    assert len(bots) == 1
    return str(bots[0]["id"])
