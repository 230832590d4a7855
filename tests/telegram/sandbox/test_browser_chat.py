"""The browser chat at /sandbox/ in headless Chromium: write, use commands, press, upload, watch a channel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

from tests.telegram.sandbox.helpers import sandbox_bot, sandbox_channel, sandbox_user
from tests.telegram.sandbox.test_ptb import tiny_png

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


class BotSide:
    """The bot, played by the test through the Bot API: reads updates with getUpdates, in order."""

    def __init__(self, server_url: str, token: str) -> None:
        self.api = httpx.Client(base_url=f"{server_url}/sandbox/bot{token}/", timeout=10)
        self.offset = 0

    def wait_for(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for update in self.api.get("getUpdates", params={"offset": self.offset}).json()["result"]:
                self.offset = update["update_id"] + 1  # confirmed by the next getUpdates
                if kind in update:
                    return update[kind]
            time.sleep(0.1)
        raise AssertionError(f"no {kind} update within {timeout} s")

    def call(self, method: str, **params: Any) -> Any:
        response = self.api.post(method, json=params)
        assert response.status_code == 200, response.text
        return response.json()["result"]


def test_a_person_talks_to_a_bot_and_watches_a_channel(live_server: LiveServer) -> None:
    from playwright.sync_api import FilePayload, expect, sync_playwright

    bot = sandbox_bot("echo_bot", "Echo")
    channel = sandbox_channel("Deals", admins=["echo_bot"])
    sandbox_user("Ann")
    bot_side = BotSide(live_server.url, bot.token)
    bot_side.call("setMyCommands", commands=[{"command": "start", "description": "Start"}])
    bot_side.wait_for("my_chat_member")  # it was made an admin of the channel

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/sandbox/")
            expect(page.locator("#bot-select")).to_have_value("echo_bot")

            page.fill("#new-user-name", "Bea")
            page.click("#new-user-create")
            expect(page.locator("#user-select option:checked")).to_have_text("Bea")
            expect(page.locator("#chat-title")).to_have_text("@echo_bot — chatting as Bea")

            page.click("#commands button:has-text('/start')")
            expect(page.locator(".message.from-user .text")).to_have_text("/start")
            message = bot_side.wait_for("message")
            assert message["text"] == "/start" and message["from"]["first_name"] == "Bea"
            assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

            bot_side.call(
                "sendMessage",
                chat_id=message["chat"]["id"],
                text="<b>Welcome</b>, pick one",
                parse_mode="HTML",
                reply_markup={"inline_keyboard": [[{"text": "Deals", "callback_data": "deals"}]]},
            )
            expect(page.locator(".message.from-bot strong")).to_have_text("Welcome")
            page.click(".inline-button[data-callback-data='deals']")
            query = bot_side.wait_for("callback_query")
            assert query["data"] == "deals" and query["from"]["first_name"] == "Bea"
            bot_side.call("answerCallbackQuery", callback_query_id=query["id"], text="Here are the deals")
            expect(page.locator("#toast")).to_have_text("Here are the deals")

            photo_file: FilePayload = {"name": "dot.png", "mimeType": "image/png", "buffer": tiny_png(8, 8)}
            page.set_input_files("#composer-photo", files=[photo_file])
            page.fill("#composer-text", "my photo")
            page.click("#composer-send")
            expect(page.locator(".message.from-user img")).to_be_visible()
            photo = bot_side.wait_for("message")
            assert photo["caption"] == "my photo" and photo["photo"][0]["width"] == 8

            bot_side.call(
                "sendMessage",
                chat_id=message["chat"]["id"],
                text="Size?",
                reply_markup={"keyboard": [[{"text": "S"}, {"text": "M"}]], "resize_keyboard": True},
            )
            page.click(".reply-button:has-text('M')")  # a reply keyboard button sends its text
            assert bot_side.wait_for("message")["text"] == "M"
            expect(page.locator("#commands button:has-text('/start')")).to_have_count(0)

            bot_side.call("sendMessage", chat_id=channel, text="Hot deal: 50% off")
            page.click(f".chat-item[data-chat-id='{channel}']")
            expect(page.locator("#chat-title")).to_have_text("Channel: Deals")
            expect(page.locator("#messages")).to_contain_text("Hot deal: 50% off")
            expect(page.locator("#composer-send")).to_be_disabled()
            bot_side.call("sendMessage", chat_id=channel, text="Second deal")
            expect(page.locator(".message")).to_have_count(2)  # the page keeps up as the channel fills
            page.goto("about:blank")  # stop the page's polling before the test's database goes away
        finally:
            browser.close()
            bot_side.api.close()
