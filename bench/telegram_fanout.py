"""Fan-out through the gateway: 10,000 messages from 5 bots to 2,000 private chats, against the sandbox.

Herald runs as in production on one machine (a granian web process serving the sandbox, Celery workers
consuming the embedded broker); this script queues the messages through the outbox and reads what the
sandbox received. Three modes:

- limits on: Telegram's limits enforced by the sandbox and Herald's pacing on. Figures: messages/s per
  bot (target >= 28, i.e. >= 93% of Telegram's 30/s), 429s after the first second (target 0), lost and
  duplicated messages (target 0).
- limits off: the sandbox's limits and Herald's pacing off: what Herald and the sandbox together send.
- capacity: pacing off, against ``bench/bot_api_responder.py`` (a Bot API stand-in with no database)
  instead of the sandbox, to measure Herald's own capacity in messages/s (target >= 1,000 on 2 cores);
  the sandbox, a Django twin of Telegram on the same SQLite file and cores, is not part of that figure.

    .venv/bin/python bench/telegram_fanout.py [--runs 3] [--messages 10000] [--mode on|off|capacity|all]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Herald, median, running_herald

BOTS = 5
CHATS = 2000
TARGET_PER_BOT = 28.0
TARGET_CAPACITY = 1000.0
TELEGRAM_PER_BOT = 30.0


@dataclass
class RunResult:
    messages: int
    seconds: float
    per_bot_rates: list[float]
    late_429s: int
    lost: int
    duplicated: int
    failed: int

    @property
    def throughput(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _setup_django(herald: Herald) -> None:
    os.environ.update(
        {k: v for k, v in herald.env.items() if k.startswith(("HERALD_", "TELEGRAM_", "CELERY_"))}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _world(herald: Herald, *, limits: bool) -> tuple[list[dict[str, str]], list[int]]:
    control = f"{herald.base_url}/sandbox/api"
    with httpx.Client(timeout=30) as client:
        client.post(f"{control}/limits", json={"enabled": limits}).raise_for_status()
        bots = [
            client.post(
                f"{control}/bots", json={"username": f"fanout{n}_bot", "first_name": f"Fanout {n}"}
            ).json()
            for n in range(BOTS)
        ]
        users = [
            client.post(f"{control}/users", json={"first_name": f"User {n}"}).json()["id"]
            for n in range(CHATS)
        ]
    return bots, users


def _enqueue(bots: list[dict[str, str]], users: list[int], messages: int) -> None:
    """Each bot fans out to the chats as a broadcast does: one bulk insert, a few drain tasks."""
    from herald.telegram.services import outbox_enqueue_many

    per_bot = messages // len(bots)
    for bot in bots:
        outbox_enqueue_many(
            token=bot["token"],
            method="sendMessage",
            messages=[
                (users[n % len(users)], {"text": f"Deal #{n} for you: 20% off today only."})
                for n in range(per_bot)
            ],
            reference="bench",
        )


def _wait_done(expected: int, timeout: float) -> float:
    from herald.telegram.models import OutboundMessage

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        open_rows = OutboundMessage.objects.filter(status__in=OutboundMessage.OPEN_STATUSES).count()
        if open_rows == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"{expected} messages were not all sent within {timeout:.0f} s")


def _measure(bots: list[dict[str, str]], expected: int) -> RunResult:
    from herald.telegram.models import OutboundMessage
    from herald.telegram.sandbox.models import Call, Message

    sent_at = [t for t in OutboundMessage.objects.values_list("sent_at", flat=True) if t is not None]
    first, last = min(sent_at), max(sent_at)
    rates = []
    late_429s = 0
    for bot in bots:
        calls = Call.objects.filter(bot__username=bot["username"], method__iexact="sendMessage")
        ok_times = sorted(c.created_at.timestamp() for c in calls if c.status == 200)
        if len(ok_times) > 1:
            rates.append((len(ok_times) - 1) / (ok_times[-1] - ok_times[0]))
        if ok_times:
            start = ok_times[0]
            late_429s += sum(1 for c in calls if c.status == 429 and c.created_at.timestamp() > start + 1.0)
    delivered = Counter(Message.objects.filter(from_bot=True).values_list("bot_id", "chat_id", "text"))
    duplicated = sum(count - 1 for count in delivered.values() if count > 1)
    failed = OutboundMessage.objects.filter(status=OutboundMessage.Status.FAILED).count()
    return RunResult(
        messages=expected,
        seconds=(last - first).total_seconds(),
        per_bot_rates=rates,
        late_429s=late_429s,
        lost=expected - len(delivered),
        duplicated=duplicated,
        failed=failed,
    )


def run_once(*, limits: bool, messages: int, workers: int, concurrency: int) -> RunResult:
    pacing = "1" if limits else "0"
    with running_herald(
        workers=workers,
        worker_concurrency=concurrency,
        extra_env={"TELEGRAM_PACING": pacing, "SANDBOX_LIMITS_ENABLED": pacing},
    ) as herald:
        _setup_django(herald)
        bots, users = _world(herald, limits=limits)
        _enqueue(bots, users, messages)
        _wait_done(messages, timeout=max(180.0, messages / 15))
        return _measure(bots, messages)


def run_capacity(*, messages: int, workers: int, concurrency: int) -> RunResult:
    """Herald's outbox, workers and gateway alone: the Bot API is the no-database responder."""
    from bench.harness import VENV_BIN, free_port

    port = free_port()
    responder = subprocess.Popen(
        [str(VENV_BIN / "python"), str(Path(__file__).with_name("bot_api_responder.py")), "--port", str(port)]
    )
    try:
        with running_herald(
            workers=workers,
            worker_concurrency=concurrency,
            extra_env={"TELEGRAM_PACING": "0", "TELEGRAM_API_BASE": f"http://127.0.0.1:{port}/bot"},
        ) as herald:
            _setup_django(herald)
            bots = [
                {"token": f"{700000 + n}:bench-token-{n:04d}", "username": f"bench{n}"} for n in range(BOTS)
            ]
            _enqueue(bots, list(range(10_000, 10_000 + CHATS)), messages)
            _wait_done(messages, timeout=max(180.0, messages / 15))
            from herald.telegram.models import OutboundMessage

            sent_at = [t for t in OutboundMessage.objects.values_list("sent_at", flat=True) if t is not None]
            stats = httpx.get(f"http://127.0.0.1:{port}/stats").json()
            return RunResult(
                messages=messages,
                seconds=(max(sent_at) - min(sent_at)).total_seconds(),
                per_bot_rates=[],
                late_429s=0,
                lost=messages - stats["distinct"],
                duplicated=stats["received"] - stats["distinct"],
                failed=OutboundMessage.objects.filter(status=OutboundMessage.Status.FAILED).count(),
            )
    finally:
        responder.terminate()
        responder.wait(timeout=10)


def _run_in_subprocess(*, mode: str, args: argparse.Namespace) -> RunResult:
    """Each run gets a fresh process: Django's settings (the data dir) are fixed once set up."""
    command = [
        sys.executable,
        __file__,
        "--single",
        mode,
        "--messages",
        str(args.messages),
        "--workers",
        str(args.workers),
        "--concurrency",
        str(args.concurrency),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return RunResult(**json.loads(output.strip().splitlines()[-1]))


def _summary(mode: str, results: list[RunResult]) -> str:
    lost, duplicated = max(r.lost for r in results), max(r.duplicated for r in results)
    if mode == "on":
        per_bot = median([statistics.median(r.per_bot_rates) for r in results])
        return (
            f"limits on  (median of {len(results)}): {per_bot:.1f} msg/s per bot "
            f"= {per_bot / TELEGRAM_PER_BOT:.0%} of Telegram's 30/s (target >= {TARGET_PER_BOT:.0f}, "
            f"ratio {per_bot / TARGET_PER_BOT:.2f}); 429s after 1 s: {max(r.late_429s for r in results)}; "
            f"lost: {lost}; duplicated: {duplicated}"
        )
    rate = median([r.throughput for r in results])
    if mode == "off":
        return (
            f"limits off, against the sandbox (median of {len(results)}): {rate:.0f} msg/s; "
            f"lost: {lost}; duplicated: {duplicated}"
        )
    return (
        f"Herald's own capacity, against the responder (median of {len(results)}): {rate:.0f} msg/s "
        f"(target >= {TARGET_CAPACITY:.0f}, ratio {rate / TARGET_CAPACITY:.2f}); "
        f"lost: {lost}; duplicated: {duplicated}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--mode", choices=["on", "off", "capacity", "all"], default="all")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    parser.add_argument("--single", choices=["on", "off", "capacity"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        sizes = {"messages": args.messages, "workers": args.workers, "concurrency": args.concurrency}
        if args.single == "capacity":
            result = run_capacity(**sizes)
        else:
            result = run_once(limits=args.single == "on", **sizes)
        print(json.dumps(asdict(result)))
        return
    modes = ["on", "off", "capacity"] if args.mode == "all" else [args.mode]
    print(f"fan-out: {args.messages} messages, {BOTS} bots, {CHATS} private chats; {os.cpu_count()} cores")
    for mode in modes:
        results = []
        for n in range(args.runs):
            result = _run_in_subprocess(mode=mode, args=args)
            results.append(result)
            slowest, fastest = min(result.per_bot_rates, default=0), max(result.per_bot_rates, default=0)
            print(
                f"  {mode:8} run {n + 1}: {result.throughput:7.1f} msg/s total, "
                f"per bot {slowest:.1f}-{fastest:.1f}/s, "
                f"429s after 1 s {result.late_429s}, lost {result.lost}, duplicated {result.duplicated}, "
                f"failed {result.failed}",
                flush=True,
            )
        print(_summary(mode, results), flush=True)


if __name__ == "__main__":
    main()
