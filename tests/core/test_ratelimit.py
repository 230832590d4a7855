from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings

from herald.core import ratelimit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(params=[pytest.param("database", marks=pytest.mark.django_db(transaction=True)), "redis"])
def limiter_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        with override_settings(RATE_LIMIT_BACKEND="redis", REDIS_URL=url):
            yield "redis"
    else:
        with override_settings(RATE_LIMIT_BACKEND="database"):
            yield "database"


def _max_in_window(times: list[float], window: float) -> int:
    """The most booked sends falling in any half-open window of ``window`` seconds."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window - 1e-6:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_first_send_is_free_then_waits_grow_by_the_interval(limiter_backend: str) -> None:
    key = f"t1-{limiter_backend}"
    waits = [ratelimit.reserve(key, rate_per_second=10) for _ in range(5)]
    assert waits[0] == pytest.approx(0.0, abs=0.02)
    # every caller books the next slot: 0, 0.1, 0.2, ... (minus the little time the calls take)
    for index, wait in enumerate(waits):
        assert wait == pytest.approx(index * 0.1, abs=0.03)


def test_burst_goes_back_to_back_then_the_rate_applies(limiter_backend: str) -> None:
    key = f"t2-{limiter_backend}"
    waits = [ratelimit.reserve(key, rate_per_second=2, burst=3) for _ in range(5)]
    assert waits[:3] == pytest.approx([0.0, 0.0, 0.0], abs=0.02)
    assert waits[3] == pytest.approx(0.5, abs=0.03)
    assert waits[4] == pytest.approx(1.0, abs=0.03)


def test_buckets_are_independent_and_after_books_a_later_slot(limiter_backend: str) -> None:
    assert ratelimit.reserve(f"a-{limiter_backend}", rate_per_second=1) == pytest.approx(0, abs=0.02)
    assert ratelimit.reserve(f"b-{limiter_backend}", rate_per_second=1) == pytest.approx(0, abs=0.02)
    assert ratelimit.reserve(f"c-{limiter_backend}", rate_per_second=1, after=2.5) == pytest.approx(
        2.5, abs=0.02
    )
    # the slot after one booked 2.5 s ahead is one interval later still
    assert ratelimit.reserve(f"c-{limiter_backend}", rate_per_second=1) == pytest.approx(3.5, abs=0.03)


def test_reserve_many_books_each_bucket_in_one_go_and_continues_where_reserve_left_off(
    limiter_backend: str,
) -> None:
    chat_a, chat_b, bot = (f"{name}-{limiter_backend}" for name in ("many-a", "many-b", "many-bot"))
    assert ratelimit.reserve(chat_a, rate_per_second=1) == pytest.approx(0.0, abs=0.02)
    waits = ratelimit.reserve_many(
        [
            ratelimit.Booking(chat_a, rate_per_second=1),  # its next slot, a second after the one above
            ratelimit.Booking(chat_b, rate_per_second=1),  # a fresh bucket: now
            ratelimit.Booking(bot, rate_per_second=10, cost=5),  # five slots from now
            ratelimit.Booking(chat_b, rate_per_second=1),  # the same bucket twice: consecutive slots
        ]
    )
    assert waits == pytest.approx([1.0, 0.0, 0.0, 1.0], abs=0.03)
    # the five slots booked on the bot's bucket push its next free one half a second out
    assert ratelimit.reserve(bot, rate_per_second=10) == pytest.approx(0.5, abs=0.03)
    assert ratelimit.reserve_many([]) == []


def test_concurrent_threads_never_book_over_the_rate(limiter_backend: str) -> None:
    key = f"threads-{limiter_backend}"
    # A slow rate makes each booking's slot unambiguous even though we only know the limiter's clock to
    # within a call's duration (threads wait on the GIL and on each other): no real sleeping happens.
    rate, threads, per_thread = 2.0, 6, 15
    booked: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connection

        try:
            for _ in range(per_thread):
                called = time.time()
                wait = ratelimit.reserve(key, rate_per_second=rate)
                returned = time.time()
                with lock:
                    booked.append((called + returned) / 2 + wait)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors
    first = min(booked)
    slots = sorted(round((t - first) * rate) for t in booked)
    # Every send got its own slot, one interval apart, none lost or doubled, none wasted.
    assert slots == list(range(threads * per_thread))
    assert _max_in_window(booked, 1.0) <= rate + 1


@pytest.mark.django_db
def test_database_buckets_idle_for_long_are_purged() -> None:
    with override_settings(RATE_LIMIT_BACKEND="database"):
        ratelimit.reserve("idle", rate_per_second=1)
        assert ratelimit.purge_idle_buckets(idle_seconds=3600) == 0
        assert ratelimit.purge_idle_buckets(idle_seconds=-5) == 1


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ratelimit.reserve("k", rate_per_second=0)
    with pytest.raises(ValueError, match="burst"):
        ratelimit.reserve("k", rate_per_second=1, burst=0)
