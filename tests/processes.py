"""Claim tags of processes that are gone, for tests of what survives a killed worker."""

from __future__ import annotations

import os
import subprocess
import sys

from herald.core.processes import new_claim_tag


def tag_of_an_exited_process() -> str:
    """A claim tag of this host naming a process that has exited (its pid is free; a reuse would read as
    alive, and the test that relies on it would fail rather than pass wrongly)."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return new_claim_tag().replace(f":{os.getpid()}", f":{int(finished.stdout)}")
