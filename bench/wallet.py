"""Wallet benchmark: ledger operations per second (hold + post), the activation services around them,
end-to-end activations per second through the API, a worker and the sandbox activation system, and the
status query's p99 from the cache.

    .venv/bin/python bench/wallet.py                      # SQLite (a throwaway data dir)
    bin/with-pg-redis .venv/bin/python bench/wallet.py --ledger-only --clients 2    # PostgreSQL

Targets: ledger >= 1,000/s on SQLite and >= 2,000/s on PostgreSQL; status p99 < 20 ms. ``--clients N``
runs hold + post in N processes at once, one customer each, and reports their total.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from harness import ROOT, VENV_BIN, running_herald

LEDGER_OPS = 2_000
ACTIVATIONS = 200
STATUS_QUERIES = 1_000


def _ledger_child(mode: str, clients: int) -> None:
    """In a child process with its own data dir (and DATABASE_URL if given): ``clients`` processes,
    each with its own customer, run hold + post LEDGER_OPS times in all; prints one JSON line."""
    import multiprocessing

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from herald.wallet import ledger, services
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    offer = services.offer_create(name="bench", price="1.00", external_code="B")
    run = uuid.uuid4().hex[:8]  # one PostgreSQL database serves every run
    users = [UserFactory.create(username=f"bench-{mode}-{run}-{n}") for n in range(clients)]
    for user in users:
        services.deposit_create(user=user, amount=str(LEDGER_OPS * 2))

    def ledger_op(user_id: int) -> None:
        # the ledger's own work, as activation_request and activation_complete run it
        with transaction.atomic():
            txn = ledger.hold_open(
                user_id=user_id,
                amount=offer.price,
                now=timezone.now(),
                kind="activation",
                currency="EUR",
                offer=offer,
            )
        assert txn is not None
        with transaction.atomic():
            ledger.hold_resolve(
                transaction_id=txn.pk, status="SUCCESS", now=timezone.now(), external_reference="X"
            )

    def service_op(user_id: int) -> None:
        # the activation services around it: offer lookup, subscription, status cache, task enqueue
        txn = services.activation_request(user=user_by_id[user_id], offer_id=offer.pk)
        services.activation_complete(transaction_id=txn.pk, external_reference="X")

    user_by_id = {user.pk: user for user in users}
    op = ledger_op if mode == "ledger" else service_op
    op(users[0].pk)  # warm: statements prepared, first subscription created
    with CaptureQueriesContext(connection) as queries:
        op(users[0].pk)
    vendor = connection.vendor
    connections.close_all()  # the forked clients open their own connections

    per_client = LEDGER_OPS // clients
    barrier = multiprocessing.get_context("fork").Barrier(clients)

    def client(n: int, results: multiprocessing.Queue[tuple[float, float]]) -> None:
        barrier.wait()
        start = time.perf_counter()
        for _ in range(per_client):
            op(users[n].pk)
        results.put((start, time.perf_counter()))
        connections.close_all()

    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[tuple[float, float]] = ctx.Queue()
    procs = [ctx.Process(target=client, args=(n, results)) for n in range(clients)]
    for proc in procs:
        proc.start()
    spans = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise SystemExit(f"a bench client failed with exit code {proc.exitcode}")
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    ops = per_client * clients / elapsed
    print(json.dumps({"vendor": vendor, "ops": ops, "statements": len(queries.captured_queries)}))


def ledger_ops_per_second(*, mode: str = "ledger", clients: int = 1) -> tuple[str, float, int]:
    """Hold + post per second and the SQL statements one takes (BEGIN and COMMIT included)."""
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HERALD_DATA_DIR": tmp,
            "CELERY_BROKER_URL": "memory://",
            "HERALD_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        out = subprocess.run(
            [str(VENV_BIN / "python"), __file__, "--ledger-child", mode, "--clients", str(clients)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["vendor"], result["ops"], result["statements"]


def end_to_end() -> tuple[float, float, float]:
    with running_herald(workers=1, worker_concurrency=8) as herald:
        setup = """
from herald.accounts.services import auth_login
from herald.wallet import services
from tests.factories import UserFactory
user = UserFactory.create(username="bench-customer")
offer = services.offer_create(name="bench", price="1.00", external_code="B")
services.deposit_create(user=user, amount="100000")
print(offer.pk, auth_login(username="bench-customer", password="correct-horse-battery-staple").access_token)
"""
        out = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "shell", "-c", setup],
            cwd=ROOT,
            env=herald.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        offer_id, token = int(out[-2]), out[-1]
        headers = {"Authorization": f"Bearer {token}"}
        http = httpx.Client(base_url=herald.base_url, headers=headers, timeout=30)

        def buy(n: int) -> str:
            answer = http.post(
                "/api/v1/activation/", json={"offer_id": offer_id}, headers={"Idempotency-Key": f"b{n}"}
            )
            answer.raise_for_status()
            return str(answer.json()["transaction_id"])

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(buy, range(ACTIVATIONS)))
        pending = set(ids)
        while pending and time.perf_counter() - start < 300:
            for transaction_id in list(pending):
                if http.get(f"/api/v1/activation/status/{transaction_id}/").json()["status"] != "PENDING":
                    pending.discard(transaction_id)
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        if pending:
            raise RuntimeError(f"{len(pending)} activations still PENDING after 300 s")

        latencies = []
        for n in range(STATUS_QUERIES):
            t0 = time.perf_counter()
            http.get(f"/api/v1/activation/status/{ids[n % len(ids)]}/").raise_for_status()
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        return ACTIVATIONS / elapsed, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger-only", action="store_true")
    parser.add_argument(
        "--clients", type=int, default=1, help="processes running hold + post at once, one customer each"
    )
    parser.add_argument("--ledger-child", choices=["ledger", "service"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ledger_child:
        _ledger_child(args.ledger_child, args.clients)
        return
    vendor, ops, statements = ledger_ops_per_second(mode="ledger", clients=args.clients)
    target = 2_000 if vendor == "postgresql" else 1_000
    verdict = "OK" if ops >= target else "BELOW"
    print(
        f"ledger hold+post on {vendor}, {args.clients} client(s): {ops:,.0f} ops/s "
        f"(target >= {target:,}/s) {verdict}; {statements} SQL statements each"
    )
    _, ops, statements = ledger_ops_per_second(mode="service", clients=args.clients)
    print(
        f"activation service hold+post (+ offer lookup, subscription, status cache, task enqueue): "
        f"{ops:,.0f} ops/s; {statements} SQL statements each"
    )
    if args.ledger_only:
        return
    rate, p50, p99 = end_to_end()
    print(f"end-to-end activations (API -> worker -> sandbox activation system -> SUCCESS): {rate:,.1f}/s")
    verdict = "OK" if p99 < 20 else "BELOW"
    print(f"status query from the cache: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target < 20 ms) {verdict}")


if __name__ == "__main__":
    main()
