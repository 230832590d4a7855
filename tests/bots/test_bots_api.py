"""Registering bots and their webhooks through the API, checked against the sandbox's Telegram."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from herald.accounts.models import User
from herald.bots.models import TelegramBot
from herald.telegram.sandbox.models import Bot as SandboxBotRow
from tests.bots.conftest import Api
from tests.telegram.sandbox.helpers import SandboxBot

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_a_bot_stores_its_username_and_never_returns_the_token(
    telegram: str, api: Api, shop_bot: SandboxBot
) -> None:
    response = api.post("/api/bots", {"name": "Shop", "token": shop_bot.token})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "shop_bot"
    assert shop_bot.token not in response.content.decode()
    assert body["masked_token"].startswith(shop_bot.token.split(":")[0] + ":")
    stored = TelegramBot.objects.get(pk=body["id"])
    assert stored.token == shop_bot.token
    # encrypted at rest: the raw column does not hold the token
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM bots_telegrambot WHERE id = %s", [stored.pk.hex])
        row = cursor.fetchone()
    assert row is not None and shop_bot.token not in row[0]
    listed = api.get("/api/bots").json()
    assert [b["id"] for b in listed] == [body["id"]]


def test_a_token_telegram_rejects_is_400_naming_it(telegram: str, api: Api) -> None:
    response = api.post("/api/bots", {"name": "X", "token": "123456789:AAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    assert response.json()["message"].startswith("token:")
    malformed = api.post("/api/bots", {"name": "X", "token": "hello"})
    assert malformed.status_code == 400
    assert "looks like" in malformed.json()["message"]


def test_the_same_token_twice_is_409(telegram: str, api: Api, shop_bot: SandboxBot) -> None:
    assert api.post("/api/bots", {"name": "Shop", "token": shop_bot.token}).status_code == 201
    again = api.post("/api/bots", {"name": "Shop again", "token": shop_bot.token})
    assert again.status_code == 409
    assert again.json()["code"] == "token_registered"


def test_webhook_set_info_and_remove(telegram: str, api: Api, shop_bot: SandboxBot) -> None:
    bot_id = api.post("/api/bots", {"name": "Shop", "token": shop_bot.token}).json()["id"]
    set_response = api.post(f"/api/bots/{bot_id}/webhook")
    assert set_response.status_code == 200
    assert set_response.json()["is_webhook_set"] is True
    expected_url = f"{telegram}/api/webhook/{bot_id}"
    assert set_response.json()["webhook_url"] == expected_url
    sandbox_row = SandboxBotRow.objects.get(username="shop_bot")
    assert sandbox_row.webhook_url == expected_url
    assert sandbox_row.webhook_secret_token  # Telegram holds the secret; Herald keeps only its fingerprint
    assert sandbox_row.webhook_secret_token not in str(TelegramBot.objects.values().get(pk=bot_id))
    info = api.get(f"/api/bots/{bot_id}/webhook").json()
    assert info["url"] == expected_url
    assert info["pending_update_count"] == 0
    removed = api.delete(f"/api/bots/{bot_id}/webhook")
    assert removed.json()["is_webhook_set"] is False
    sandbox_row.refresh_from_db()
    assert sandbox_row.webhook_url == ""


def test_patch_and_delete(telegram: str, api: Api, shop_bot: SandboxBot) -> None:
    bot_id = api.post("/api/bots", {"name": "Shop", "token": shop_bot.token}).json()["id"]
    patched = api.patch(f"/api/bots/{bot_id}", {"name": "Shop 2", "is_active": False})
    assert patched.json()["name"] == "Shop 2" and patched.json()["is_active"] is False
    assert api.delete(f"/api/bots/{bot_id}").status_code == 204
    assert api.get(f"/api/bots/{bot_id}").status_code == 404


def test_bots_api_is_for_staff_only(
    db: None, personas: object, bearer_client: Callable[[User], Client], client: Client
) -> None:
    assert client.get("/api/bots").status_code == 401
    outsider = bearer_client(personas.outsider)  # type: ignore[attr-defined]
    assert outsider.get("/api/bots").status_code == 403


def test_flow_validation_errors_name_the_path(telegram: str, api: Api, shop_bot: SandboxBot) -> None:
    bot_id = api.post("/api/bots", {"name": "Shop", "token": shop_bot.token}).json()["id"]
    bad = {
        "name": "form",
        "flow_data": {"steps": [{"id": "a", "type": "question", "text": "?", "save_as": "x", "next": "b"}]},
    }
    response = api.post(f"/api/bots/{bot_id}/flows", bad)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_flow"
    assert body["errors"] == [{"field": "flow_data.steps.0.next", "message": "no step has the id 'b'"}]


def test_one_default_flow_and_unique_triggers(telegram: str, api: Api, shop_bot: SandboxBot) -> None:
    bot_id = api.post("/api/bots", {"name": "Shop", "token": shop_bot.token}).json()["id"]
    flows = f"/api/bots/{bot_id}/flows"
    first = api.post(flows, {"name": "a", "flow_data": {"response": "A"}, "is_default": True}).json()
    second = api.post(flows, {"name": "b", "flow_data": {"response": "B"}, "is_default": True}).json()
    listed = {f["name"]: f["is_default"] for f in api.get(flows).json()}
    assert listed == {"a": False, "b": True}
    assert (
        api.put(
            f"{flows}/{first['id']}",
            {"name": "a", "flow_data": {"response": "A"}, "trigger_command": "/help"},
        ).status_code
        == 200
    )
    clash = api.put(
        f"{flows}/{second['id']}", {"name": "b", "flow_data": {"response": "B"}, "trigger_command": "help"}
    )
    assert clash.status_code == 409
    assert api.delete(f"{flows}/{first['id']}").status_code == 204
