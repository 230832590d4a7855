"""Which process holds a claim, and whether it is still alive.

A worker that claims a row (an outbox send, a post being published) writes its claimant tag on it:
``<claim>@<host>:<pid>``. When a worker is killed, its claims would otherwise wait for a staleness
cutoff (minutes) before anyone dares to take them over. A process on the same host can tell at once
that the claimant is gone: no process has its pid any more. A reused pid reads as alive, which is the
safe side: the row then waits for the cutoff as before. Claims of other hosts are never judged here.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import cache
from pathlib import Path

CLAIM_TAG_MAX_LENGTH = 100


@cache
def _host() -> str:
    return socket.gethostname()[:64] or "localhost"


def new_claim_tag() -> str:
    """A fresh tag for one claim (a batch, a row): unique, and naming this process."""
    return f"{uuid.uuid4().hex[:16]}@{_host()}:{os.getpid()}"[:CLAIM_TAG_MAX_LENGTH]


def claimant_is_gone(tag: str) -> bool:
    """Whether the process that wrote ``tag`` is known to be dead: it ran on this host and its pid is free.

    Tags without a process (older rows), of another host, or of a pid in use all answer ``False``.
    """
    _claim, at, where = tag.rpartition("@")
    host, colon, pid_text = where.rpartition(":")
    if not at or not colon or host != _host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a live process of another user
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process nobody has reaped yet still has its pid, but it is dead (Linux's ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # "pid (command name) state ...": the name may hold spaces and parentheses, the state follows the last ")"
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
