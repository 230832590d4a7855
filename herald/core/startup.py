"""What a long-running Herald process does once it has started."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Move the objects made while the process started (modules, Django's apps, models' metadata, URLconf)
    out of the cyclic garbage collector's reach: they live as long as the process, and a full collection,
    which stops every thread of the process, would walk them all again each time. Measured in the web process
    under the webhook benchmark: full collections of 100-130 ms became ~40 ms."""
    gc.collect()
    gc.freeze()
