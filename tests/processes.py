"""Fresh Python processes for tests: one started as Herald's are, and claim tags of processes that are gone
(for tests of what survives a killed worker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from herald.core.processes import new_claim_tag


def run_python(code: str, data_dir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new process started as a Herald process would be: in the project's folder, with
    this environment minus Herald's own settings (``HERALD_*``, ``DJANGO_SETTINGS_MODULE``, ``DATABASE_URL``),
    a data dir of its own and ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HERALD_", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"))
    }
    env.update({"HERALD_DATA_DIR": str(data_dir), **variables})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tag_of_an_exited_process() -> str:
    """A claim tag of this host naming a process that has exited (its pid is free; a reuse would read as
    alive, and the test that relies on it would fail rather than pass wrongly)."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return new_claim_tag().replace(f":{os.getpid()}", f":{int(finished.stdout)}")
