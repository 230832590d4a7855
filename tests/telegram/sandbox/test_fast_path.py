"""The lean ASGI path for the Bot API answers exactly what the Django view answers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from config.asgi import application
from tests.telegram.sandbox.helpers import SandboxBot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _worker_lets_go_of_the_database() -> Iterator[None]:
    """The fast path's thread keeps a connection; end it so the test database can be dropped."""
    yield
    application.worker.stop()


def through_asgi(*requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [await client.request(method, url, **kwargs) for method, url, kwargs in requests]

    return asyncio.run(run())


def test_fast_path_and_django_view_give_the_same_answers(shop_bot: SandboxBot, ann: int) -> None:
    base = f"/sandbox/bot{shop_bot.token}"
    sent, form, query, missing, unknown, stranger, wrong_type = through_asgi(
        (
            "POST",
            f"{base}/sendMessage",
            {"json": {"chat_id": ann, "text": "<b>hi</b>", "parse_mode": "HTML"}},
        ),
        ("POST", f"{base}/sendmessage", {"data": {"chat_id": str(ann), "text": "form"}}),
        ("GET", f"{base}/getMe", {"params": {"unused": ""}}),
        ("POST", f"{base}/sendMessage", {"data": {"chat_id": str(ann)}}),
        ("POST", f"{base}/sendTelepathy", {}),
        ("GET", "/sandbox/bot1:nope/getMe", {}),
        ("POST", f"{base}/sendMessage", {"json": {"chat_id": [1], "text": "x"}}),
    )
    assert sent.status_code == 200 and sent.headers["content-type"] == "application/json"
    message = sent.json()["result"]
    assert (message["text"], message["entities"][0]["type"], message["chat"]["id"]) == ("hi", "bold", ann)
    assert form.json()["result"]["message_id"] == message["message_id"] + 1
    assert query.json()["result"]["username"] == "shop_bot"
    assert (
        missing.status_code == 400 and missing.json()["description"] == "Bad Request: message text is empty"
    )
    assert unknown.status_code == 404 and unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }
    assert stranger.status_code == 401
    assert (
        wrong_type.json()["description"] == 'Bad Request: field "chat_id" must be of type Integer or String'
    )


def test_uploads_and_other_paths_still_go_through_django(shop_bot: SandboxBot, ann: int) -> None:
    base = f"/sandbox/bot{shop_bot.token}"
    upload, updates, broken, page = through_asgi(
        (
            "POST",
            f"{base}/sendDocument",
            {"data": {"chat_id": str(ann)}, "files": {"document": ("a.txt", b"hey")}},
        ),
        ("GET", f"{base}/getUpdates", {"params": {"timeout": "0"}}),
        ("POST", f"{base}/sendMessage", {"content": b"{", "headers": {"content-type": "application/json"}}),
        ("GET", "/sandbox/api/bots", {}),
    )
    document = upload.json()["result"]["document"]
    assert (document["file_name"], document["file_size"]) == ("a.txt", 3)
    assert updates.json() == {"ok": True, "result": []}
    assert broken.status_code == 400 and json.loads(broken.content)["error_code"] == 400
    assert page.json()[0]["username"] == "shop_bot"


def test_oversized_body_is_413(shop_bot: SandboxBot, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    (response,) = through_asgi(
        ("POST", f"/sandbox/bot{shop_bot.token}/sendMessage", {"data": {"chat_id": "1", "text": "x" * 500}})
    )
    assert response.status_code == 413
    assert response.json() == {"ok": False, "error_code": 413, "description": "Request Entity Too Large"}


def scope(path: str, content_type: str = "", method: str = "POST") -> dict[str, Any]:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    return {"type": "http", "method": method, "path": path, "headers": headers, "query_string": b""}


def test_which_requests_take_the_fast_path() -> None:
    assert application._route(scope("/sandbox/bot1:a/sendMessage", "application/json")) == (
        "1:a",
        "sendMessage",
    )
    assert application._route(scope("/sandbox/bot1:a/getMe", method="GET")) == ("1:a", "getMe")
    assert application._route(scope("/sandbox/bot1:a/sendPhoto", "multipart/form-data; boundary=x")) is None
    assert application._route(scope("/sandbox/bot1:a/getUpdates")) == ("1:a", "getUpdates")
    assert application._route(scope("/sandbox/api/bots", "application/json")) is None
    assert application._route(scope("/sandbox/bot1:a/sendMessage", method="PUT")) is None


def test_a_long_poll_waits_without_holding_the_server(shop_bot: SandboxBot, ann: int) -> None:
    async def run() -> tuple[httpx.Response, float, float]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=20) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            poll = asyncio.create_task(
                client.get(f"/sandbox/bot{shop_bot.token}/getUpdates", params={"timeout": 10})
            )
            await asyncio.sleep(0.3)
            assert not poll.done()
            # the control API (a Django view) answers while the long poll waits
            sent = await client.post(
                "/sandbox/api/send", json={"bot": "shop_bot", "from": ann, "text": "ping"}
            )
            assert sent.status_code == 200
            sent_at = loop.time() - started
            response = await poll
            return response, sent_at, loop.time() - started

    response, sent_at, answered_at = asyncio.run(run())
    assert [u["message"]["text"] for u in response.json()["result"]] == ["ping"]
    assert sent_at < 2 and answered_at < sent_at + 1.5


def test_the_fast_path_is_off_with_the_sandbox(settings: Any) -> None:
    from herald.telegram.sandbox.asgi import SandboxBotApiFastPath

    settings.HERALD_SANDBOX = False

    async def django_app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    assert SandboxBotApiFastPath(django_app)._route(scope("/sandbox/bot1:a/getMe", method="GET")) is None


def test_concurrent_calls_are_batched_and_each_keeps_its_own_outcome(
    shop_bot: SandboxBot, sandbox_limits_off: None
) -> None:
    from tests.telegram.sandbox.helpers import sandbox_user

    people = [sandbox_user(f"P{n}") for n in range(3)]
    base = f"/sandbox/bot{shop_bot.token}/sendMessage"

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            calls = [
                client.post(base, data={"chat_id": str(people[n % 3]), "text": f"m{n}"}) for n in range(30)
            ]
            calls.append(client.post(base, data={"chat_id": "1", "text": "to nobody"}))
            return list(await asyncio.gather(*calls))

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 30 + [400]
    assert responses[-1].json()["description"] == "Bad Request: chat not found"
    for person in people:
        ids = sorted(
            r.json()["result"]["message_id"]
            for r in responses[:30]
            if r.json()["result"]["chat"]["id"] == person
        )
        assert ids == list(range(1, 11))


def test_a_call_that_breaks_the_batch_transaction_does_not_take_the_others_down() -> None:
    from django.db import connection

    from herald.telegram.sandbox.batching import BatchingWorker
    from herald.telegram.sandbox.models import User

    def make_user(user_id: int) -> int:
        User.objects.create(id=user_id, first_name="U")
        return user_id

    def broken() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    gate = threading.Event()

    async def run() -> list[Any]:
        worker = BatchingWorker("test-batching")
        held = worker.submit(gate.wait, 5)  # holds the thread while the next three queue up as one batch
        futures = [worker.submit(make_user, 11), worker.submit(broken), worker.submit(make_user, 12)]
        gate.set()
        await held
        try:
            return list(await asyncio.gather(*futures, return_exceptions=True))
        finally:
            worker.stop()

    first, failure, second = asyncio.run(run())
    assert (first, second) == (11, 12) and isinstance(failure, Exception)
    assert set(User.objects.values_list("id", flat=True)) == {11, 12}
