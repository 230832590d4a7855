"""A long-running process freezes what it made while starting, so full garbage collections stay short."""

from __future__ import annotations

import json
from pathlib import Path

from tests.processes import run_python

# as config/wsgi.py and the Celery worker do once started; printed: what a full collection would walk
PROBE = """
import gc, json, sys
import django
django.setup()
from herald.core.startup import freeze_startup_objects
before = len(gc.get_objects())
freeze_startup_objects()
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "walked": len(gc.get_objects()),
                  "urlconf": "config.urls" in sys.modules}))
"""


def test_a_full_collection_walks_only_what_the_process_made_after_starting(tmp_path: Path) -> None:
    done = run_python(PROBE, tmp_path, DJANGO_SETTINGS_MODULE="config.settings")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # the URLconf (the whole API) is built before the freeze, not by the first request after it
    assert counts["urlconf"] is True
    assert counts["frozen"] > counts["before"] > 50_000
    assert counts["walked"] < 1_000
