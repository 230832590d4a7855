"""Wallet benchmark: ledger operations per second (hold + post) in-process, end-to-end activations per
second through the API, a worker and the sandbox activation system, and the status query's p99 from the
cache.

    .venv/bin/python bench/wallet.py            # SQLite (a throwaway data dir)
    DATABASE_URL=postgres://... .venv/bin/python bench/wallet.py --ledger-only   # PostgreSQL ledger figure

Targets: ledger >= 1,000/s on SQLite and >= 2,000/s on PostgreSQL; status p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from harness import ROOT, VENV_BIN, running_herald

LEDGER_OPS = 2_000
ACTIVATIONS = 200
STATUS_QUERIES = 1_000


def ledger_ops_per_second() -> tuple[str, float]:
    """Runs in a child process so Django is set up with its own data dir (and DATABASE_URL if given)."""
    code = f"""
import time, django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from herald.wallet import services
from tests.factories import UserFactory
user = UserFactory.create()
offer = services.offer_create(name="bench", price="1.00", external_code="B")
services.deposit_create(user=user, amount="{LEDGER_OPS * 2}")
start = time.perf_counter()
for _ in range({LEDGER_OPS}):
    txn = services.activation_request(user=user, offer_id=offer.pk)
    services.activation_complete(transaction_id=txn.pk, external_reference="X")
elapsed = time.perf_counter() - start
from django.db import connection
print(json.dumps({{"vendor": connection.vendor, "ops": {LEDGER_OPS} / elapsed}}))
"""
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HERALD_DATA_DIR": tmp,
            "CELERY_BROKER_URL": "memory://",
            "HERALD_LOG_LEVEL": "WARNING",
        }
        out = subprocess.run(
            [str(VENV_BIN / "python"), "-c", code],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["vendor"], result["ops"]


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
    args = parser.parse_args()
    vendor, ops = ledger_ops_per_second()
    target = 2_000 if vendor == "postgresql" else 1_000
    verdict = "OK" if ops >= target else "BELOW"
    print(f"ledger hold+post on {vendor}: {ops:,.0f} ops/s (target >= {target:,}/s) {verdict}")
    if args.ledger_only:
        return
    rate, p50, p99 = end_to_end()
    print(f"end-to-end activations (API -> worker -> sandbox activation system -> SUCCESS): {rate:,.1f}/s")
    verdict = "OK" if p99 < 20 else "BELOW"
    print(f"status query from the cache: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target < 20 ms) {verdict}")


if __name__ == "__main__":
    main()
