"""Scheduled posts on time: 1,000 posts due within the same minute across 50 channels (one studio bot
each), published through the sandbox with Telegram's limits on and Herald's pacing on.

Herald runs as under ``make run`` (granian serving the sandbox, Celery workers, beat) in a throwaway data
dir; this script schedules the posts through ``herald.content.services`` and reads what each channel
received. For every post it measures how late it reached the channel beyond the channel's pacing: in a
channel the k-th post can at best go at ``ideal_k = max(due_k, ideal_{k-1} + interval)``, where the
interval is Telegram's 3 s (20/min) or Herald's own booking (20/min x ``TELEGRAM_GROUP_PACING_HEADROOM``).
Figures: lateness p50 / p99 / max, duplicates and posts lost. Target: p99 < 2 s, 0 duplicates, 0 lost.

Two modes: ``normal``, and ``kill``: every worker is SIGKILLed mid-minute and started again a few seconds
later (the wake-ups they held are lost; the database rows are the truth).

The broker is the embedded one (``filesystem://``) as under ``make run``, or with ``--broker redis`` a
private redis-server on a free loopback port, started and stopped by this script.

    .venv/bin/python bench/schedule_precision.py [--runs 3] [--mode normal|kill|both] [--broker redis]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import VENV_BIN, Herald, free_port, median, running_herald

TELEGRAM_INTERVAL = 60.0 / 20  # Telegram: 20 messages a minute in a channel
TARGET_P99 = 2.0
MARKER = re.compile(r"#P(\d+)\b")


@dataclass
class RunResult:
    posts: int
    channels: int
    lateness_p50: float  # beyond Telegram's 20/min
    lateness_p99: float
    lateness_max: float
    herald_p50: float  # beyond Herald's own pacing (20/min x headroom)
    herald_p99: float
    herald_max: float
    duplicates: int
    lost: int
    failed: int
    late_429s: int
    schedule_seconds: float
    killed_at: float | None = None  # seconds after the first post was due
    restarted_at: float | None = None
    notes: list[str] = field(default_factory=list)


def _setup_django(herald: Herald) -> None:
    os.environ.update(
        {k: v for k, v in herald.env.items() if k.startswith(("HERALD_", "TELEGRAM_", "CELERY_", "CONTENT_"))}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# worker log names by pid, to say why a worker died
_WORKER_LOGS: dict[int, str] = {}


def _start_workers(
    herald: Herald, *, count: int, concurrency: int, generation: int
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for n in range(count):
        name = f"worker{generation}-{n}"
        proc = herald.start(
            str(VENV_BIN / "celery"),
            *("-A", "config", "worker", "--loglevel", "WARNING", "--pool", "threads"),
            *("--concurrency", str(concurrency), "--hostname", f"sched{generation}-{n}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            name=name,
        )
        _WORKER_LOGS[proc.pid] = name
        procs.append(proc)
    return procs


def _deaths(herald: Herald, workers: list[subprocess.Popen[bytes]]) -> list[str]:
    """Workers that died by themselves, with the last error line of their log."""
    notes = []
    for proc in workers:
        if proc.poll() is None:
            continue
        log = herald.data_dir / f"{_WORKER_LOGS.get(proc.pid, '')}.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        errors = [line for line in lines if "Error" in line] or lines or [f"exit code {proc.returncode}"]
        notes.append(f"worker {_WORKER_LOGS.get(proc.pid)} died: {errors[-1][:160]}")
    return notes


def _kill(herald: Herald, workers: list[subprocess.Popen[bytes]]) -> list[str]:
    died = _deaths(herald, workers)
    for proc in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        herald.processes.remove(proc)
    return died


def _world(herald: Herald, channels: int) -> list[Any]:
    """``channels`` studio bots, each an administrator of its own channel, hosted by Herald."""
    from herald.bots.models import BotKind, TelegramBot
    from herald.content.services import destination_for_telegram_chat
    from herald.core.crypto import token_fingerprint

    control = f"{herald.base_url}/sandbox/api"
    destinations = []
    with httpx.Client(timeout=30) as client:
        client.post(f"{control}/limits", json={"enabled": True}).raise_for_status()
        for n in range(channels):
            bot = client.post(f"{control}/bots", json={"username": f"studio{n}_bot"}).json()
            chat = client.post(
                f"{control}/channels", json={"title": f"Shop {n}", "admins": [bot["username"]]}
            ).json()
            hosted = TelegramBot.objects.create(
                name=f"Studio {n}",
                token=bot["token"],
                token_fingerprint=token_fingerprint(bot["token"]),
                telegram_id=bot["id"],
                username=bot["username"],
                kind=BotKind.STUDIO,
            )
            destinations.append(
                destination_for_telegram_chat(bot=hosted, chat_id=chat["id"], title=f"Shop {n}")
            )
    return destinations


def _schedule(
    destinations: list[Any], posts: int, *, lead: float, rng: random.Random
) -> tuple[dt.datetime, float]:
    """Drafts first, then every post scheduled for a random moment in one minute starting ``lead`` s on."""
    from django.utils import timezone

    from herald.content.models import Destination
    from herald.content.services import post_create_draft, post_schedule, post_update

    drafts = []
    for n in range(posts):
        destination = destinations[n % len(destinations)]
        assert isinstance(destination, Destination)
        post = post_create_draft(destination=destination, author_telegram_id=1000 + n % 7, format="selling")
        drafts.append(post)
    links = [{"text": "🛍 Shop", "url": "https://shop.example.am/sale"}]
    first_due = timezone.now() + dt.timedelta(seconds=lead)
    started = time.monotonic()
    for post in drafts:
        post = post_update(
            post=post, text=f"🔥 Ամառային զեղչեր մինչև 50% #P{post.pk}", links=links, text_source="template"
        )
        post_schedule(post=post, at=first_due + dt.timedelta(seconds=rng.uniform(0, 60)))
    took = time.monotonic() - started
    if timezone.now() >= first_due:
        raise RuntimeError(f"scheduling {posts} posts took {took:.0f} s, longer than the {lead:.0f} s lead")
    return first_due, took


def _wait_done(posts: int, timeout: float) -> None:
    from herald.content.models import Post, PostStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Post.objects.filter(status__in=[PostStatus.PUBLISHED, PostStatus.FAILED]).count() >= posts:
            return
        time.sleep(1)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _lateness(
    posts: dict[int, tuple[int, dt.datetime]], arrived: dict[int, dt.datetime], interval: float
) -> list[float]:
    by_channel: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for post_id, (chat, due) in posts.items():
        by_channel[chat].append((due, post_id))
    late = []
    for queue in by_channel.values():
        ideal: float | None = None
        for due, post_id in sorted(queue):
            ideal = due.timestamp() if ideal is None else max(due.timestamp(), ideal + interval)
            if post_id in arrived:
                late.append(max(0.0, arrived[post_id].timestamp() - ideal))
    return late


def _measure(posts_count: int, channels: int, first_due: dt.datetime) -> RunResult:
    from django.conf import settings

    from herald.content.models import Post, PostStatus
    from herald.telegram.sandbox.models import Call, Message

    posts = {
        pk: (int(chat), due)
        for pk, chat, due in Post.objects.values_list("pk", "destination__chat_id", "scheduled_at")
        if due is not None
    }
    seen: Counter[int] = Counter()
    arrived: dict[int, dt.datetime] = {}
    for text, date in Message.objects.filter(from_bot=True).values_list("text", "date"):
        match = MARKER.search(text or "")
        if match:
            post_id = int(match.group(1))
            seen[post_id] += 1
            arrived[post_id] = min(date, arrived.get(post_id, date))
    herald_interval = TELEGRAM_INTERVAL / settings.TELEGRAM_GROUP_PACING_HEADROOM
    telegram_late = _lateness(posts, arrived, TELEGRAM_INTERVAL)
    herald_late = _lateness(posts, arrived, herald_interval)
    first = first_due.timestamp()
    late_429s = sum(
        1
        for when in Call.objects.filter(status=429).values_list("created_at", flat=True)
        if when.timestamp() > first
    )
    return RunResult(
        posts=posts_count,
        channels=channels,
        lateness_p50=_percentile(telegram_late, 0.5),
        lateness_p99=_percentile(telegram_late, 0.99),
        lateness_max=max(telegram_late, default=float("nan")),
        herald_p50=_percentile(herald_late, 0.5),
        herald_p99=_percentile(herald_late, 0.99),
        herald_max=max(herald_late, default=float("nan")),
        duplicates=sum(n - 1 for n in seen.values() if n > 1),
        lost=sum(1 for pk in posts if pk not in seen),
        failed=Post.objects.filter(status=PostStatus.FAILED).count(),
        late_429s=late_429s,
        schedule_seconds=0.0,
    )


def _states() -> list[str]:
    """Where posts and outbox rows ended (for a run that did not finish)."""
    from django.db.models import Count

    from herald.content.models import Post
    from herald.telegram.models import OutboundMessage

    posts = dict(Post.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    rows = dict(
        OutboundMessage.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return [f"posts {posts}", f"outbox {rows}"]


@contextlib.contextmanager
def _broker(kind: str) -> Iterator[dict[str, str]]:
    """Environment for the chosen broker: nothing for the embedded one, or a private Redis."""
    if kind != "redis":
        yield {}
        return
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("--broker redis needs redis-server on the PATH")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="herald-bench-redis-") as tmp:
        proc = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            import redis

            deadline = time.monotonic() + 10
            while True:
                try:
                    redis.Redis(port=port).ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            yield {"CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run_once(
    *, kill: bool, posts: int, channels: int, workers: int, concurrency: int, seed: int, broker: str
) -> RunResult:
    rng = random.Random(seed)
    with (
        _broker(broker) as broker_env,
        running_herald(
            workers=0, extra_env={"TELEGRAM_PACING": "1", "SANDBOX_LIMITS_ENABLED": "1", **broker_env}
        ) as herald,
    ):
        _setup_django(herald)
        running = _start_workers(herald, count=workers, concurrency=concurrency, generation=0)
        destinations = _world(herald, channels)
        first_due, took = _schedule(destinations, posts, lead=max(30.0, posts / 25), rng=rng)
        killed_at = restarted_at = None
        died: list[str] = []
        if kill:
            # mid-minute: a third of the posts are out, the workers hold the wake-ups of the rest
            time.sleep(max(0.0, first_due.timestamp() + 25 - time.time()))
            died = _kill(herald, running)
            killed_at = time.time() - first_due.timestamp()
            time.sleep(3)
            running = _start_workers(herald, count=workers, concurrency=concurrency, generation=1)
            restarted_at = time.time() - first_due.timestamp()
        _wait_done(posts, timeout=max(0.0, first_due.timestamp() + 60 - time.time()) + (420 if kill else 180))
        result = _measure(posts, channels, first_due)
        result.schedule_seconds = round(took, 1)
        result.notes = _states() + died + _deaths(herald, running)
        result.killed_at = round(killed_at, 1) if killed_at is not None else None
        result.restarted_at = round(restarted_at, 1) if restarted_at is not None else None
        return result


def _run_in_subprocess(*, kill: bool, args: argparse.Namespace, seed: int) -> RunResult:
    """Each run gets a fresh process: Django's settings (the data dir) are fixed once set up."""
    command = [
        sys.executable,
        __file__,
        "--single",
        "kill" if kill else "normal",
        *("--posts", str(args.posts), "--channels", str(args.channels)),
        *("--workers", str(args.workers), "--concurrency", str(args.concurrency), "--seed", str(seed)),
        *("--broker", args.broker),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return RunResult(**json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--mode", choices=["normal", "kill", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="threads per worker (a thread sleeps while it waits for a pacing slot)",
    )
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--broker", choices=["embedded", "redis"], default="embedded")
    parser.add_argument("--single", choices=["normal", "kill"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        result = run_once(
            kill=args.single == "kill",
            posts=args.posts,
            channels=args.channels,
            workers=args.workers,
            concurrency=args.concurrency,
            seed=args.seed,
            broker=args.broker,
        )
        print(json.dumps(asdict(result)))
        return
    modes = {"normal": [False], "kill": [True], "both": [False, True]}[args.mode]
    print(
        f"schedule precision: {args.posts} posts due within one minute, {args.channels} channels, "
        f"{args.workers} workers x {args.concurrency} threads, {args.broker} broker; {os.cpu_count()} cores",
        flush=True,
    )
    for kill in modes:
        label = "kill  " if kill else "normal"
        results = []
        for n in range(args.runs):
            r = _run_in_subprocess(kill=kill, args=args, seed=args.seed + n)
            results.append(r)
            killed = f", workers killed at +{r.killed_at} s, back at +{r.restarted_at} s" if kill else ""
            print(
                f"  {label} run {n + 1}: late beyond 20/min p50 {r.lateness_p50:.2f} s "
                f"p99 {r.lateness_p99:.2f} s max {r.lateness_max:.2f} s; beyond Herald's pacing "
                f"p50 {r.herald_p50:.2f} p99 {r.herald_p99:.2f} max {r.herald_max:.2f}; "
                f"duplicates {r.duplicates}, lost {r.lost}, failed {r.failed}, 429s {r.late_429s}{killed}",
                flush=True,
            )
        p50 = median([r.lateness_p50 for r in results])
        p99 = median([r.lateness_p99 for r in results])
        herald_p99 = median([r.herald_p99 for r in results])
        print(
            f"{label} (median of {len(results)}): p50 {p50:.2f} s, p99 {p99:.2f} s "
            f"(target < {TARGET_P99:.0f} s, ratio {p99 / TARGET_P99:.2f}); "
            f"beyond Herald's pacing p99 {herald_p99:.2f} s; "
            f"duplicates {max(r.duplicates for r in results)}, lost {max(r.lost for r in results)}"
        )


if __name__ == "__main__":
    main()
