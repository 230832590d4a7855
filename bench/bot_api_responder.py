"""A Bot API stand-in that costs next to nothing, to measure Herald's own sending capacity.

The sandbox is a full twin of Telegram written with Django: with limits off, a fan-out against it measures
the sandbox's speed as much as Herald's. This responder answers ``sendMessage`` as Telegram does (a
``Message`` with an id, the chat and the text) from one asyncio process with no database, and counts
what it received, so a run can still check that nothing was lost or sent twice.

    python bench/bot_api_responder.py --port 8081      # then TELEGRAM_API_BASE=http://127.0.0.1:8081/bot

``GET /stats`` answers ``{"received": n, "distinct": n}``: every sendMessage, and distinct (bot, chat, text).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import parse_qsl

_received = 0
_distinct: set[tuple[str, str, str]] = set()
_next_id: dict[str, int] = {}


def _params(content_type: str, body: bytes) -> dict[str, str]:
    if content_type.startswith("application/json"):
        return {key: str(value) for key, value in json.loads(body or b"{}").items()}
    # PTB sends form fields whose values are JSON-encoded (strings come quoted)
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    values = {}
    for key, raw in pairs:
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        values[key] = str(value)
    return values


def _answer(token: str, method: str, params: dict[str, str]) -> tuple[int, dict[str, object]]:
    global _received
    if method == "sendMessage":
        chat = params.get("chat_id", "")
        text = params.get("text", "")
        _received += 1
        _distinct.add((token, chat, text))
        _next_id[chat] = message_id = _next_id.get(chat, 0) + 1
        return 200, {
            "ok": True,
            "result": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(chat), "type": "private", "first_name": "Reader"},
                "from": {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"},
                "text": text,
            },
        }
    if method == "getMe":
        return 200, {
            "ok": True,
            "result": {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"},
        }
    return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            verb, path, _ = request_line.split(" ", 2)
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in header_lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            status: int
            payload: dict[str, object]
            if verb == "GET" and path == "/stats":
                status, payload = 200, {"received": _received, "distinct": len(_distinct)}
            else:
                *_, bot, method = path.split("?", 1)[0].split("/")
                token = bot.removeprefix("bot")
                status, payload = _answer(token, method, _params(headers.get("content-type", ""), body))
            data = json.dumps(payload).encode()
            writer.write(
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
