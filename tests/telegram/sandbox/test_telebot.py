"""pyTelegramBotAPI (telebot), an independent client, against the sandbox on a live server."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest
import telebot
from pytest_django.live_server_helper import LiveServer
from telebot import apihelper
from telebot.apihelper import ApiTelegramException
from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.telegram.sandbox.helpers import SandboxBot, sandbox_messages
from tests.telegram.sandbox.test_ptb import tiny_png


@pytest.fixture
def telebot_api(live_server: LiveServer) -> Iterator[None]:
    saved = apihelper.API_URL, apihelper.FILE_URL
    apihelper.API_URL = live_server.url + "/sandbox/bot{0}/{1}"  # type: ignore[assignment]
    apihelper.FILE_URL = live_server.url + "/sandbox/file/bot{0}/{1}"  # type: ignore[assignment]
    # one HTTP session per call: a kept-alive connection would hold a live-server thread, and that
    # thread a database connection, past the end of the test
    saved_ttl, apihelper.SESSION_TIME_TO_LIVE = apihelper.SESSION_TIME_TO_LIVE, 0
    yield
    apihelper.API_URL, apihelper.FILE_URL = saved
    apihelper.SESSION_TIME_TO_LIVE = saved_ttl
    gc.collect()  # an error kept by pytest.raises holds its response, and that its connection, in a cycle
    time.sleep(0.1)  # let the live server's thread see the connection close


def test_telebot_sends_edits_and_uploads(telebot_api: None, shop_bot: SandboxBot, ann: int) -> None:
    client = telebot.TeleBot(shop_bot.token, threaded=False)
    me = client.get_me()
    assert me.id == shop_bot.id and me.username == "shop_bot"

    markup = InlineKeyboardMarkup()
    markup.add(InlineKeyboardButton("Yes", callback_data="yes"))
    sent = client.send_message(ann, "Subscribe?", reply_markup=markup)
    assert sent.chat.id == ann and sent.text == "Subscribe?"
    assert sent.reply_markup is not None and sent.reply_markup.keyboard[0][0].callback_data == "yes"

    edited = client.edit_message_text("Subscribed", chat_id=ann, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "Subscribed"

    png = tiny_png(4, 4)
    photo = client.send_photo(ann, png, caption="dot")
    assert photo.caption == "dot" and photo.photo is not None and photo.photo[-1].width == 4
    file_info = client.get_file(photo.photo[-1].file_id)
    assert file_info.file_path is not None and client.download_file(file_info.file_path) == png

    assert [m["text"] or m["caption"] for m in sandbox_messages(ann, shop_bot)] == ["Subscribed", "dot"]


def test_telebot_sees_telegram_errors(telebot_api: None, shop_bot: SandboxBot, ann: int) -> None:
    client = telebot.TeleBot(shop_bot.token, threaded=False)
    with pytest.raises(ApiTelegramException) as caught:
        client.send_message(-1001234567890, "to a channel that does not exist")
    assert caught.value.error_code == 400
    assert caught.value.description == "Bad Request: chat not found"

    with pytest.raises(ApiTelegramException) as caught:
        client.send_message(ann, "x" * 4097)
    assert caught.value.description == "Bad Request: message is too long"

    stranger = telebot.TeleBot("42:unknown", threaded=False)
    with pytest.raises(ApiTelegramException) as caught:
        stranger.get_me()
    assert caught.value.error_code == 401
