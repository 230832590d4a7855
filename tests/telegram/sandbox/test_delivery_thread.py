"""The web process's delivery thread POSTs updates to a webhook served by that same process.

Delivering inside a view would make a request wait for another request to the same server, so it
runs a real granian with the delivery thread on, as ``make run`` does.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HeraldServer:
    """Herald under granian in a subprocess, on its own SQLite file, with the delivery thread on."""

    def __init__(self, data_dir: Path, port: int, *, delivery_thread: bool = True) -> None:
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "HERALD_DATA_DIR": str(data_dir),
            # its own SQLite file, whatever database the suite runs on
            "DATABASE_URL": f"sqlite:///{data_dir / 'herald.sqlite3'}",
            "SANDBOX_DELIVERY_THREAD": "1" if delivery_thread else "0",
            "SANDBOX_DELIVERY_POLL_SECONDS": "0.2",
            "HERALD_LOG_LEVEL": "WARNING",
        }
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> HeraldServer:
        base_dir = Path(settings.BASE_DIR)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=base_dir, env=self.env, check=True
        )
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "granian", "--interface", "wsgi", "config.wsgi:application"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"),
                *("--blocking-threads", "8", "--no-ws"),
            ],
            cwd=base_dir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/health", timeout=1)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("granian did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def herald_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = HeraldServer(tmp_path_factory.mktemp("herald-data"), free_port()).start()
    yield server.url
    server.stop()


def wait_until(check: Any, timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_updates_reach_a_webhook_served_by_the_same_process(herald_server: str) -> None:
    api = httpx.Client(base_url=herald_server, timeout=10)
    shop = api.post("/sandbox/api/bots", json={"username": "shop_bot"}).json()
    # the receiving end is the sandbox itself: another bot's getUpdates, answered by a Django view
    receiver = api.post("/sandbox/api/bots", json={"username": "receiver_bot"}).json()
    ann = api.post("/sandbox/api/users", json={"first_name": "Ann"}).json()["id"]
    hook = f"{herald_server}/sandbox/bot{receiver['token']}/getUpdates"
    assert api.post(f"/sandbox/bot{shop['token']}/setWebhook", json={"url": hook}).json()["ok"] is True

    for text in ("/start", "hello"):
        assert (
            api.post("/sandbox/api/send", json={"bot": "shop_bot", "from": ann, "text": text}).status_code
            == 200
        )

    def received() -> int:
        calls = api.get("/sandbox/api/calls", params={"bot": "receiver_bot"}).json()
        return len([c for c in calls if c["method"] == "getUpdates"])

    assert wait_until(lambda: received() >= 2)
    info = api.get(f"/sandbox/bot{shop['token']}/getWebhookInfo").json()["result"]
    assert info["pending_update_count"] == 0 and "last_error_message" not in info

    # a webhook that answers 4xx keeps the update pending and is reported, like Telegram does
    broken = f"{herald_server}/sandbox/api/no-such-hook"
    api.post(f"/sandbox/bot{shop['token']}/setWebhook", json={"url": broken})
    api.post("/sandbox/api/send", json={"bot": "shop_bot", "from": ann, "text": "anyone?"})
    info = wait_until(
        lambda: (
            (r := api.get(f"/sandbox/bot{shop['token']}/getWebhookInfo").json()["result"]).get(
                "last_error_date"
            )
            and r
        )
    )
    assert info["last_error_message"] == "Wrong response from the webhook: 404 Not Found"
    assert info["pending_update_count"] == 1


def test_updates_left_pending_go_out_when_the_server_starts_again(tmp_path: Path) -> None:
    port = free_port()
    first = HeraldServer(tmp_path, port, delivery_thread=False).start()
    try:
        api = httpx.Client(base_url=first.url, timeout=10)
        bot = api.post("/sandbox/api/bots", json={"username": "shop_bot"}).json()
        receiver = api.post("/sandbox/api/bots", json={"username": "receiver_bot"}).json()
        ann = api.post("/sandbox/api/users", json={"first_name": "Ann"}).json()["id"]
        hook = f"{first.url}/sandbox/bot{receiver['token']}/getUpdates"
        api.post(f"/sandbox/bot{bot['token']}/setWebhook", json={"url": hook})
        api.post("/sandbox/api/send", json={"bot": "shop_bot", "from": ann, "text": "still there?"})
        api.close()
    finally:
        first.stop()

    def delivered() -> bool:
        with sqlite3.connect(tmp_path / "herald.sqlite3") as db:
            return db.execute("SELECT state FROM sandbox_update WHERE kind = 'message'").fetchone() == (
                "delivered",
            )

    assert not delivered()
    second = HeraldServer(tmp_path, port).start()
    try:
        assert wait_until(delivered)  # nobody called the sandbox: the thread started with the server
    finally:
        second.stop()
