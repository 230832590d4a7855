"""Updates reach a webhook with the secret header, in order; failures are retried; redelivery works."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from herald.telegram.sandbox.delivery import webhook_retry_delay
from tests.telegram.sandbox.helpers import SandboxBot, deliver_pending_updates, sandbox_send

pytestmark = pytest.mark.django_db(transaction=True)


class Webhook:
    """A tiny HTTP endpoint on 127.0.0.1 that records what it receives and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.received.append((body, self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [update["message"]["text"] for update, _ in self.received if "message" in update]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def call(client: Client, bot: SandboxBot, method: str, **params: Any) -> Any:
    return client.post(f"/sandbox/bot{bot.token}/{method}", params, content_type="application/json").json()


def test_updates_reach_the_webhook_in_order_with_the_secret(
    client: Client, shop_bot: SandboxBot, ann: int, webhook: Webhook
) -> None:
    assert call(client, shop_bot, "setWebhook", url=webhook.url, secret_token="s3cr3t") == {
        "ok": True,
        "result": True,
        "description": "Webhook was set",
    }
    for text in ("/start", "one", "two"):
        sandbox_send(shop_bot, ann, text)
    assert call(client, shop_bot, "getWebhookInfo")["result"]["pending_update_count"] == 3

    assert deliver_pending_updates() == 3
    assert webhook.texts() == ["/start", "one", "two"]
    assert {secret for _, secret in webhook.received} == {"s3cr3t"}
    ids = [update["update_id"] for update, _ in webhook.received]
    assert ids == sorted(ids) and len(set(ids)) == 3
    info = call(client, shop_bot, "getWebhookInfo")["result"]
    assert info["url"] == webhook.url and info["pending_update_count"] == 0
    assert "last_error_date" not in info


def test_a_failed_delivery_is_retried_with_backoff_and_reported(
    client: Client, shop_bot: SandboxBot, ann: int, webhook: Webhook
) -> None:
    call(client, shop_bot, "setWebhook", url=webhook.url)
    webhook.status = 500
    sandbox_send(shop_bot, ann, "first")
    sandbox_send(shop_bot, ann, "second")

    assert deliver_pending_updates() == 0
    assert webhook.texts() == ["first"]  # the second waits behind the first, in order
    info = call(client, shop_bot, "getWebhookInfo")["result"]
    assert info["pending_update_count"] == 2
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    assert info["last_error_date"] > 0

    assert deliver_pending_updates() == 0  # still inside its backoff: nothing is tried
    assert len(webhook.received) == 1

    webhook.status = 200
    assert deliver_pending_updates(ignore_backoff=True) == 2
    assert webhook.texts() == ["first", "first", "second"]
    assert call(client, shop_bot, "getWebhookInfo")["result"]["pending_update_count"] == 0


def test_unreachable_webhook_is_a_network_error(client: Client, shop_bot: SandboxBot, ann: int) -> None:
    call(client, shop_bot, "setWebhook", url="http://127.0.0.1:9/nobody-listens")
    sandbox_send(shop_bot, ann, "hello")
    assert deliver_pending_updates() == 0
    assert call(client, shop_bot, "getWebhookInfo")["result"]["last_error_message"] == "Connection refused"


def test_backoff_grows_to_a_minute() -> None:
    assert [webhook_retry_delay(n) for n in (1, 2, 3, 4, 7, 20)] == [1, 2, 4, 8, 60, 60]


def test_redeliver_sends_an_update_again(
    client: Client, shop_bot: SandboxBot, ann: int, webhook: Webhook
) -> None:
    call(client, shop_bot, "setWebhook", url=webhook.url)
    sent = sandbox_send(shop_bot, ann, "only once?")
    deliver_pending_updates()
    response = client.post(
        "/sandbox/api/redeliver",
        {"bot": "shop_bot", "update_id": sent.update_id},
        content_type="application/json",
    )
    assert response.status_code == 200
    deliver_pending_updates()
    assert webhook.texts() == ["only once?", "only once?"]
    assert webhook.received[0][0] == webhook.received[1][0]
    unknown = client.post(
        "/sandbox/api/redeliver", {"bot": "shop_bot", "update_id": 1}, content_type="application/json"
    )
    assert unknown.status_code == 400 and "has no update 1" in unknown.json()["message"]


def test_get_updates_conflicts_with_a_webhook(client: Client, shop_bot: SandboxBot, webhook: Webhook) -> None:
    call(client, shop_bot, "setWebhook", url=webhook.url)
    conflict = client.get(f"/sandbox/bot{shop_bot.token}/getUpdates")
    assert conflict.status_code == 409
    assert conflict.json()["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first"
    )
    assert call(client, shop_bot, "deleteWebhook")["description"] == "Webhook was deleted"
    assert call(client, shop_bot, "deleteWebhook")["description"] == "Webhook is already deleted"
    assert client.get(f"/sandbox/bot{shop_bot.token}/getUpdates").status_code == 200


def test_webhook_drop_pending_updates(
    client: Client, shop_bot: SandboxBot, ann: int, webhook: Webhook
) -> None:
    sandbox_send(shop_bot, ann, "old news")
    call(client, shop_bot, "setWebhook", url=webhook.url, drop_pending_updates=True)
    sandbox_send(shop_bot, ann, "fresh")
    deliver_pending_updates()
    assert webhook.texts() == ["fresh"]
