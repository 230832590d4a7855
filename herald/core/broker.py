"""The embedded Celery broker: kombu's filesystem transport, with messages that appear whole.

kombu's transport creates a message's file and then writes it; a worker listing the folder in between
takes the empty file and dies on the JSON it cannot read ("Unrecoverable error: JSONDecodeError"), which
happens under load. Here a message is written under a name no reader looks at and renamed into place,
which is atomic on one filesystem. ``config/celery.py`` makes ``filesystem://`` use this transport.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        folder = self.data_folder_out
        # the reader takes "<anything>.<queue>.msg"; a name without a dot is never taken
        partial = os.path.join(folder, f"writing-{uuid.uuid4().hex}")
        final = os.path.join(folder, f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
