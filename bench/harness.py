"""Start Herald's processes (web, Celery workers) in a throwaway data dir for a benchmark, and stop them.

Everything listens on 127.0.0.1 only; every process is started by us and stopped by its pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Herald:
    base_url: str
    env: dict[str, str]
    data_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(proc)
        return proc

    def manage(self, *args: str) -> None:
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        for proc in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.processes.clear()


@contextlib.contextmanager
def running_herald(
    *,
    workers: int = 2,
    worker_pool: str = "threads",
    worker_concurrency: int = 16,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Herald]:
    """A throwaway Herald (own SQLite database and embedded broker): one web process, ``workers`` workers."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        data_dir = Path(tmp)
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "HERALD_DATA_DIR": str(data_dir),
            "HERALD_PORT": str(port),
            "HERALD_PUBLIC_URL": base_url,
            "HERALD_SANDBOX": "1",
            "HERALD_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        herald = Herald(base_url=base_url, env=env, data_dir=data_dir)
        herald.manage("migrate", "--noinput")
        # as make run serves it: granian, one process (the sandbox's limits are per process), 40 threads
        herald.start(
            *(str(VENV_BIN / "granian"), "--interface", "wsgi", "config.wsgi:application"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--blocking-threads", "40"),
            *("--log-level", "warning", "--no-ws"),
            name="web",
        )
        for n in range(workers):
            herald.start(
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--pool",
                worker_pool,
                "--concurrency",
                str(worker_concurrency),
                "--hostname",
                f"bench{n}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                name=f"worker{n}",
            )
        # beat runs the sweepers, as under make run: a wake-up the broker lost is re-driven
        herald.start(
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(data_dir / "beat-schedule"),
            name="beat",
        )
        try:
            _wait_healthy(base_url)
            yield herald
        finally:
            herald.stop()


def _wait_healthy(base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"Herald at {base_url} did not become healthy in {timeout:.0f} s")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
