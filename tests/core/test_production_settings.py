"""Production refuses to start without shared secrets; the embedded setup still generates and keeps them.

Each case imports the settings in a fresh process with its own environment, as a container would start.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.processes import run_python

SECRET = "a-real-secret-shared-by-every-process-0123456789abcdef"
FERNET = "a-real-fernet-key-shared-by-every-process-0123456789"
# printed by the child so the test sees what the settings ended up with
PROBE = "import config.settings as s; print(s.SECRET_KEY); print(','.join(s.FERNET_KEYS))"


def _start(data_dir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    # set empty rather than absent, so a developer's .env cannot fill them in
    return run_python(PROBE, data_dir, **{"HERALD_SECRET_KEY": "", "HERALD_FERNET_KEYS": "", **variables})


@pytest.mark.parametrize(
    ("missing", "present"),
    [
        ("HERALD_SECRET_KEY", {"HERALD_FERNET_KEYS": FERNET}),
        ("HERALD_FERNET_KEYS", {"HERALD_SECRET_KEY": SECRET}),
    ],
)
def test_production_refuses_to_start_without_a_secret_naming_it(
    tmp_path: Path, missing: str, present: dict[str, str]
) -> None:
    started = _start(tmp_path, HERALD_SANDBOX="0", **present)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert missing in started.stderr.splitlines()[-1]
    # nothing generated that a second container would not share
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "fernet_key_seed").exists()


def test_production_refuses_the_example_files_placeholders(tmp_path: Path) -> None:
    started = _start(
        tmp_path,
        HERALD_SANDBOX="0",
        HERALD_SECRET_KEY="change-me-to-a-long-random-string",
        HERALD_FERNET_KEYS=FERNET,
    )
    assert started.returncode != 0
    assert "HERALD_SECRET_KEY" in started.stderr.splitlines()[-1]


def test_production_starts_with_the_secrets_it_is_given(tmp_path: Path) -> None:
    started = _start(tmp_path, HERALD_SANDBOX="0", HERALD_SECRET_KEY=SECRET, HERALD_FERNET_KEYS=FERNET)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [SECRET, FERNET]


def test_embedded_setup_generates_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = _start(tmp_path)  # the defaults: sandbox on, as `make run` starts
    assert first.returncode == 0, first.stderr
    again = _start(tmp_path)
    assert again.returncode == 0, again.stderr
    secret, fernet = first.stdout.split()
    assert len(secret) >= 50 and fernet
    assert again.stdout == first.stdout  # web, worker and beat on this machine share them


def test_a_development_machine_on_real_telegram_with_debug_may_generate_them(tmp_path: Path) -> None:
    started = _start(tmp_path, HERALD_SANDBOX="0", HERALD_DEBUG="1")
    assert started.returncode == 0, started.stderr
