"""Webhook ingest: real-shaped updates (text, command, callback) posted to a hosted bot's webhook.

First, with the system otherwise idle, 15 text updates one at a time: how long from posting each to its
reply being sent to the sandbox (the webhook, the wake-up, the worker, the outbox). Then 40 concurrent
connections (Telegram's default max_connections) against Herald's web process on SQLite, the replies going
through the worker to the sandbox. Figures: updates/s accepted, p50/p99 latency, and duplicate effects
when every update is sent 3 times (target 0). Targets on 2 cores: >= 800 updates/s, p99 < 50 ms.

wrk's connections each send their next update when the last is answered (a closed loop): the server is
always full and the latency is 40 connections / throughput. So the p99 is also measured with updates
offered at a steady 800/s, as Telegram sends them when users write (PACING_SCRIPT). The same load with no
worker running shows what the webhook takes by itself (with the worker, the two share two cores and
SQLite's one write lock). The same load then hits a minimal aiogram webhook echo bot on this machine
(installed in a throwaway virtualenv for the benchmark only) and the ratio is printed.

Needs ``wrk`` (Debian package). Everything listens on 127.0.0.1.

    .venv/bin/python bench/webhook_ingest.py [--runs 3] [--seconds 10] [--no-peer]
"""

# ruff: noqa: E501  (the Lua script builds JSON on long lines)

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, free_port, median, running_herald

CONNECTIONS = 40
USERS = 200
TARGET_RATE = 800.0
TARGET_P99_MS = 50.0
PEER_VERSION = "aiogram==3.31.0"
QUIET_REPLIES = 15
BACKLOG_WAIT_SECONDS = 120

# One update per request; update ids unique per wrk thread; every update is sent REPEAT times in a row.
WRK_SCRIPT = textwrap.dedent(
    """
    local counter = 0
    local chats = {}
    local repeat_n = 1
    local next_thread = 0
    function setup(thread)
      thread:set("tid", next_thread)
      next_thread = next_thread + 1
    end
    function init(args)
      for chat in string.gmatch(args[1], "[^,]+") do table.insert(chats, chat) end
      repeat_n = tonumber(args[2])
      secret = args[3]
      offered_rate, wrk_threads = args[4], args[5]
    end
    function request()
      local n = math.floor(counter / repeat_n)
      counter = counter + 1
      local update_id = tid * 100000000 + n + 1
      local chat = chats[(n % #chats) + 1]
      local user = '{"id":' .. chat .. ',"is_bot":false,"first_name":"User","language_code":"en"}'
      local body
      if n % 3 == 0 then
        body = '{"update_id":' .. update_id .. ',"message":{"message_id":' .. (n + 1) .. ',"date":1760000000,' ..
          '"chat":{"id":' .. chat .. ',"type":"private"},"from":' .. user .. ',"text":"hello there"}}'
      elseif n % 3 == 1 then
        body = '{"update_id":' .. update_id .. ',"message":{"message_id":' .. (n + 1) .. ',"date":1760000000,' ..
          '"chat":{"id":' .. chat .. ',"type":"private"},"from":' .. user .. ',"text":"/start",' ..
          '"entities":[{"type":"bot_command","offset":0,"length":6}]}}'
      else
        body = '{"update_id":' .. update_id .. ',"callback_query":{"id":"' .. update_id .. '","from":' .. user ..
          ',"chat_instance":"1","data":"start:0","message":{"message_id":1,"date":1760000000,' ..
          '"chat":{"id":' .. chat .. ',"type":"private"},"text":"menu"}}}'
      end
      return wrk.format("POST", nil, {["Content-Type"] = "application/json",
        ["X-Telegram-Bot-Api-Secret-Token"] = secret}, body)
    end
    """
)


# Appended to WRK_SCRIPT for a paced run: each wrk thread sends on a fixed timetable (the offered rate split
# between the threads), the next free connection taking the next slot, as Telegram sends updates as users
# write them, whatever the server's speed (wrk's default is a closed loop: each connection sends when it has
# its answer, so the latency is 40 / throughput). wrk times a request from when it is written: when every
# connection is busy at a slot time the request starts late, so how late ("behind schedule") is counted too.
PACING_SCRIPT = textwrap.dedent(
    """
    local ffi = require("ffi")
    ffi.cdef[[
      typedef struct { long tv_sec; long tv_nsec; } pacing_timespec;
      int clock_gettime(int clock_id, pacing_timespec *tp);
    ]]
    local clock = ffi.new("pacing_timespec")
    local function now_ms()
      ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
      return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1000000
    end
    local interval, next_slot
    behind = {}
    function delay()
      local now = now_ms()
      if next_slot == nil then
        interval = 1000 * tonumber(wrk_threads) / tonumber(offered_rate)
        next_slot = now
      end
      local slot = next_slot
      next_slot = next_slot + interval
      if slot >= now then
        behind[#behind + 1] = 0
        return slot - now
      end
      behind[#behind + 1] = now - slot
      return 0
    end
    local all_threads = {}
    local setup_updates = setup
    function setup(thread)
      setup_updates(thread)
      all_threads[#all_threads + 1] = thread
    end
    function done(summary, latency, requests)
      local lags = {}
      for _, thread in ipairs(all_threads) do
        for _, lag in ipairs(thread:get("behind")) do lags[#lags + 1] = lag end
      end
      table.sort(lags)
      local function at(q) return lags[math.max(1, math.ceil(#lags * q))] or 0 end
      io.write(string.format("BEHIND SCHEDULE p50 %.3f p99 %.3f max %.3f\\n", at(0.5), at(0.99), at(1)))
    end
    """
)


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int
    # paced runs: how late requests started against the timetable (ms)
    behind_p99_ms: float = 0.0
    behind_max_ms: float = 0.0


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


WRK_THREADS = 2


def wrk(
    url: str,
    *,
    seconds: int,
    chats: list[int],
    repeat: int,
    secret: str,
    script_dir: Path,
    rate: float | None = None,
) -> Load:
    """wrk's figures for the load; with ``rate``, updates are offered at that many per second (paced)."""
    script = script_dir / "updates.lua"
    script.write_text(WRK_SCRIPT + (PACING_SCRIPT if rate else ""))
    output = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            ",".join(map(str, chats)),
            str(repeat),
            secret,
            str(rate or 0),
            str(WRK_THREADS),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # the latency distribution's lines ("     50%   12.34ms"), not a "+/- Stdev" column ending in 50%
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    behind = re.search(r"BEHIND SCHEDULE p50 \S+ p99 (\S+) max (\S+)", output)
    return Load(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=p50,
        p99_ms=p99,
        non_2xx=int(errors.group(1)) if errors else 0,
        requests=total,
        behind_p99_ms=float(behind.group(1)) if behind else 0.0,
        behind_max_ms=float(behind.group(2)) if behind else 0.0,
    )


def reply_latencies(url: str, *, secret: str, chat: int, count: int) -> list[float]:
    """Seconds from posting a text update (one at a time, the system otherwise idle) to its reply being sent."""
    from herald.telegram.models import OutboundMessage

    latencies = []
    with httpx.Client(timeout=10) as client:
        for n in range(count):
            update_id = 900_000_000 + n
            posted = time.time()
            client.post(
                url,
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                json={
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": int(posted),
                        "chat": {"id": chat, "type": "private"},
                        "from": {"id": chat, "is_bot": False, "first_name": "Quiet"},
                        "text": f"hello {n}",
                    },
                },
            ).raise_for_status()
            sent = None
            deadline = time.monotonic() + 10
            while sent is None and time.monotonic() < deadline:
                sent = (
                    OutboundMessage.objects.filter(
                        chat_id=str(chat),
                        status="sent",
                        created_at__gte=dt.datetime.fromtimestamp(posted, tz=dt.UTC),
                    )
                    .values_list("sent_at", flat=True)
                    .first()
                )
                time.sleep(0.002)
            if sent is None:
                raise RuntimeError(f"no reply to update {update_id} within 10 s")
            latencies.append(sent.timestamp() - posted)
            time.sleep(1.1)  # the chat's own pace (1 message/s) is not what is measured
    return latencies


def herald_run(
    *, seconds: int, repeat: int, worker: bool = True, rate: float | None = None
) -> dict[str, object]:
    """One run; without ``worker`` the updates are only taken (the webhook alone, nothing else on the CPU
    or at SQLite's write lock), which shows what the web process can take by itself. With ``rate``, the
    updates are offered at that pace (see PACING_SCRIPT) and the lone replies and the backlog are skipped."""
    with running_herald(
        workers=1 if worker else 0, worker_concurrency=8, extra_env={"SANDBOX_LIMITS_ENABLED": "0"}
    ) as herald:
        os.environ.update(
            {k: v for k, v in herald.env.items() if k.startswith(("HERALD_", "TELEGRAM_", "SANDBOX_"))}
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from herald.bots import services
        from herald.bots.models import BotMessage, InboundUpdate
        from herald.telegram.models import OutboundMessage
        from herald.telegram.sandbox.models import Bot as SandboxBot

        control = f"{herald.base_url}/sandbox/api"
        with httpx.Client(timeout=30) as client:
            client.post(f"{control}/limits", json={"enabled": False}).raise_for_status()
            sandbox_bot = client.post(f"{control}/bots", json={"username": "ingest_bot"}).json()
            chats = [
                client.post(f"{control}/users", json={"first_name": f"U{n}"}).json()["id"]
                for n in range(USERS)
            ]
        bot = services.bot_create(name="ingest", token=sandbox_bot["token"])
        services.bot_webhook_set(bot=bot)
        services.flow_save(
            bot=bot, name="hello", flow_data={"response": "Got it, {first_name}!"}, is_default=True
        )
        secret = SandboxBot.objects.get(username="ingest_bot").webhook_secret_token
        url = f"{herald.base_url}/api/webhook/{bot.pk}"
        quiet = [0.0]
        if worker and not rate:
            quiet = reply_latencies(url, secret=secret, chat=chats[0], count=QUIET_REPLIES)
        load = wrk(
            url,
            seconds=seconds,
            chats=chats,
            repeat=repeat,
            secret=secret,
            script_dir=herald.data_dir,
            rate=rate,
        )
        load_ended = time.monotonic()
        unique_updates = InboundUpdate.objects.count()
        # how far the worker got meanwhile (replies to one bot are paced at Telegram's 30 messages/s)
        processed = InboundUpdate.objects.exclude(status="received").count()
        replies_sent = OutboundMessage.objects.filter(status="sent").count() - len(quiet)
        backlog_seconds = 0.0
        if worker and not rate:  # then how long the worker takes for the rest
            deadline = load_ended + BACKLOG_WAIT_SECONDS
            while InboundUpdate.objects.filter(status="received").exists() and time.monotonic() < deadline:
                time.sleep(0.25)
            backlog_seconds = time.monotonic() - load_ended
        incoming = BotMessage.objects.filter(direction="incoming").count()
        text_updates = InboundUpdate.objects.filter(kind="message").count()
        return {
            **asdict(load),
            "unique_updates": unique_updates,
            "duplicate_effects": max(0, incoming - text_updates),
            "processed": processed,
            "replies_sent": replies_sent,
            "backlog_seconds": backlog_seconds,
            "backlog_left": InboundUpdate.objects.filter(status="received").count(),
            "quiet_reply_p50_ms": median(quiet) * 1000,
            "quiet_reply_max_ms": max(quiet) * 1000,
        }


PEER_APP = textwrap.dedent(
    """
    import sys
    from aiohttp import web
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message, CallbackQuery
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    token, api_base, port, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot(token, session=session)
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"Got it, {message.from_user.first_name}!")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path="/webhook")
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
    """
)


def peer_run(*, seconds: int, repeat: int, peer_python: Path) -> dict[str, object]:
    with running_herald(workers=0, extra_env={"SANDBOX_LIMITS_ENABLED": "0"}) as herald:
        control = f"{herald.base_url}/sandbox/api"
        with httpx.Client(timeout=30) as client:
            client.post(f"{control}/limits", json={"enabled": False}).raise_for_status()
            sandbox_bot = client.post(f"{control}/bots", json={"username": "peer_bot"}).json()
            chats = [
                client.post(f"{control}/users", json={"first_name": f"U{n}"}).json()["id"]
                for n in range(USERS)
            ]
        port = free_port()
        app = herald.data_dir / "peer_app.py"
        app.write_text(PEER_APP)
        secret = "peer-secret-token"
        herald.start(
            str(peer_python),
            str(app),
            sandbox_bot["token"],
            f"{herald.base_url}/sandbox",
            str(port),
            secret,
            name="peer",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        load = wrk(
            f"http://127.0.0.1:{port}/webhook",
            seconds=seconds,
            chats=chats,
            repeat=repeat,
            secret=secret,
            script_dir=herald.data_dir,
        )
        return asdict(load)


def ensure_peer(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PEER_VERSION], check=True)
    return python


def _single(kind: str, args: argparse.Namespace) -> None:
    if kind in ("herald", "webhook-alone"):
        result = herald_run(seconds=args.seconds, repeat=args.repeat, worker=kind == "herald")
    elif kind == "herald-paced":
        result = herald_run(seconds=args.seconds, repeat=args.repeat, rate=TARGET_RATE)
    else:
        result = peer_run(seconds=args.seconds, repeat=args.repeat, peer_python=Path(args.peer_python))
    print(json.dumps(result))


def _in_subprocess(kind: str, args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--single",
        kind,
        "--seconds",
        str(args.seconds),
        "--repeat",
        str(args.repeat),
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"a {kind} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _backlog(run: dict[str, Any]) -> str:
    rest = run["unique_updates"] - run["processed"]
    if run["backlog_left"]:
        return f"was not processed within {BACKLOG_WAIT_SECONDS} s ({run['backlog_left']} left)"
    return f"in {run['backlog_seconds']:.1f} s after the load ({rest / max(run['backlog_seconds'], 0.001):.0f}/s)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--no-peer", action="store_true", help="skip the aiogram comparison")
    parser.add_argument(
        "--single", choices=["herald", "herald-paced", "webhook-alone", "peer"], help=argparse.SUPPRESS
    )
    parser.add_argument("--peer-python", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        _single(args.single, args)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    print(f"webhook ingest: {CONNECTIONS} connections, {args.seconds} s per run, {os.cpu_count()} cores")
    herald = [_in_subprocess("herald", args) for _ in range(args.runs)]
    for n, run in enumerate(herald, 1):
        print(
            f"  herald run {n}: {run['rate']:.0f} updates/s, p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms,"
            f" non-2xx {run['non_2xx']}; during the run the worker processed {run['processed']} of"
            f" {run['unique_updates']} updates and sent {run['replies_sent']} replies, and the rest"
            f" {_backlog(run)}; before it, a lone update's reply went out in {run['quiet_reply_p50_ms']:.0f} ms"
            f" (median), {run['quiet_reply_max_ms']:.0f} ms at most"
        )
    paced = [_in_subprocess("herald-paced", args) for _ in range(args.runs)]
    print(
        f"herald, updates offered at a steady {TARGET_RATE:.0f}/s (median of {len(paced)}): "
        f"{median([r['rate'] for r in paced]):.0f} updates/s taken, p50 {median([r['p50_ms'] for r in paced]):.1f} ms, "
        f"p99 {median([r['p99_ms'] for r in paced]):.1f} ms (target < {TARGET_P99_MS:.0f}); requests started "
        f"behind the timetable by {median([r['behind_p99_ms'] for r in paced]):.1f} ms at p99, "
        f"{median([r['behind_max_ms'] for r in paced]):.0f} ms at most (all 40 connections busy)"
    )
    args.repeat = 3
    dup = _in_subprocess("herald", args)
    args.repeat = 1
    rate = median([r["rate"] for r in herald])
    p50 = median([r["p50_ms"] for r in herald])
    p99 = median([r["p99_ms"] for r in herald])
    print(
        f"herald (median of {len(herald)}): {rate:.0f} updates/s (target >= {TARGET_RATE:.0f}, ratio "
        f"{rate / TARGET_RATE:.2f}), p50 {p50:.1f} ms, p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f})"
    )
    print(
        f"each update sent 3 times: {dup['requests']} requests, {dup['unique_updates']} updates taken, "
        f"duplicate effects {dup['duplicate_effects']} (target 0)"
    )
    alone = [_in_subprocess("webhook-alone", args) for _ in range(args.runs)]
    print(
        f"the webhook alone, no worker running (median of {len(alone)}): "
        f"{median([r['rate'] for r in alone]):.0f} updates/s, p50 {median([r['p50_ms'] for r in alone]):.1f} ms, "
        f"p99 {median([r['p99_ms'] for r in alone]):.1f} ms: with the worker, the two share the CPU and "
        "SQLite's one write lock"
    )
    if args.no_peer:
        return
    peer_python = ensure_peer(ROOT / "var" / "bench-peer")
    peers = [_in_subprocess("peer", args, "--peer-python", str(peer_python)) for _ in range(args.runs)]
    peer_rate = median([r["rate"] for r in peers])
    print(
        f"aiogram echo bot (median of {len(peers)}): {peer_rate:.0f} updates/s, p50 "
        f"{median([r['p50_ms'] for r in peers]):.1f} ms, p99 {median([r['p99_ms'] for r in peers]):.1f} ms; "
        f"herald / aiogram = {rate / peer_rate:.2f}"
    )


if __name__ == "__main__":
    main()
