"""The Bot Maker admin: pages render, the token stays masked, flow JSON errors are shown with their path."""

from __future__ import annotations

import pytest
from django.test import Client

from herald.bots.models import BotFlow, TelegramBot
from herald.core.crypto import token_fingerprint
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "123456789:AAFakeTokenForTheAdminPageOnly_abcdefg"


@pytest.fixture
def admin(client: Client) -> Client:
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def bot() -> TelegramBot:
    return TelegramBot.objects.create(
        name="Shop",
        token=TOKEN,
        token_fingerprint=token_fingerprint(TOKEN),
        username="shop_bot",
        telegram_id=123456789,
    )


def test_every_bots_admin_page_renders(admin: Client, bot: TelegramBot) -> None:
    for model in ("telegrambot", "botuser", "botflow", "botmessage", "flowrun", "flowanswer", "broadcast"):
        assert admin.get(f"/admin/bots/{model}/").status_code == 200, model
    page = admin.get(f"/admin/bots/telegrambot/{bot.pk}/change/").content.decode()
    assert "123456789:AA…defg" in page
    assert TOKEN not in page


def test_flow_editor_names_the_bad_path(admin: Client, bot: TelegramBot) -> None:
    response = admin.post(
        "/admin/bots/botflow/add/",
        {
            "bot": bot.pk,
            "name": "form",
            "trigger_command": "",
            "is_active": "on",
            "flow_data": '{"steps": [{"id": "a", "type": "message", "text": "x", "next": "nowhere"}]}',
        },
    )
    assert response.status_code == 200
    assert "steps.0.next: no step has the id &#x27;nowhere&#x27;" in response.content.decode()
    assert not BotFlow.objects.exists()
    ok = admin.post(
        "/admin/bots/botflow/add/",
        {
            "bot": bot.pk,
            "name": "hi",
            "trigger_command": "/start",
            "is_active": "on",
            "flow_data": '{"response": "Hi"}',
        },
    )
    assert ok.status_code == 302
    assert BotFlow.objects.get().trigger_command == "start"


def test_a_bot_added_in_the_admin_is_checked_with_telegram(admin: Client, telegram: str) -> None:
    from tests.telegram.sandbox.helpers import sandbox_bot

    shop = sandbox_bot("admin_added_bot", "Added in the admin")
    form = {
        "name": "Added",
        "kind": "flows",
        "is_active": "on",
        "new_token": "123:not-a-real-token",
        "flows-TOTAL_FORMS": "0",
        "flows-INITIAL_FORMS": "0",
    }
    refused = admin.post("/admin/bots/telegrambot/add/", form)
    assert refused.status_code == 200 and not TelegramBot.objects.exists()
    assert "token" in refused.context["adminform"].form.errors["new_token"][0].lower()
    # The form asks the sandbox (on the same SQLite file) while the admin saves: it must get its answer,
    # not wait behind a transaction the admin holds.
    saved = admin.post("/admin/bots/telegrambot/add/", {**form, "new_token": shop.token})
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert TelegramBot.objects.get().username == "admin_added_bot"
