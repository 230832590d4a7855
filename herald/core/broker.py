"""The embedded Celery broker: kombu's filesystem transport, with messages that appear whole, a reader that
lists the folder once for many messages, and a worker that looks for new messages 20 times a second.

- kombu's transport creates a message's file and then writes it; a worker listing the folder in between
  takes the empty file and dies on the JSON it cannot read ("Unrecoverable error: JSONDecodeError"), which
  happens under load. Here a message is written under a name no reader looks at and renamed into place,
  which is atomic on one filesystem.
- kombu's reader lists and sorts the whole folder for every message it takes: with a backlog of a few
  thousand messages (a burst of updates, each queueing a reply) a worker spent milliseconds per message
  just finding the next one, and took tasks slower than they came. Here a listing is kept per queue and
  served in order; the folder is listed again when the queue asked for has run dry, at most once per ten
  times the CPU the last listing took (between 10 and 100 ms). A message another worker took first is
  skipped.
- kombu writes an exchange's table of bound queues in place (the first time by creating the file empty
  and then writing it): a publisher reading it meanwhile failed on the JSON it could not read. Here the
  table is written aside and renamed into place, changes taking a lock file in turn.
- kombu's virtual transports sleep a second between polls of empty queues, so a task sent to an idle
  worker waited half a second on average, and a bot's reply (a processing task, then a send task)
  about a second. Here the pause is 50 ms.

``config/celery.py`` makes ``filesystem://`` use this transport.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

POLLING_INTERVAL = 0.05
_SHORTEST_RELIST = 0.01
_LONGEST_RELIST = 0.1


def _age_order(name: str) -> tuple[int, str]:
    # "<time>_<uuid>.<queue>.msg": older first; a longer time is a later one (kombu's own names count
    # milliseconds, this module's nanoseconds)
    stamp = name.partition("_")[0]
    return len(stamp), name


class Channel(filesystem.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: dict[str, deque[str]] = {}
        self._listed_at = float("-inf")
        self._relist_after = _SHORTEST_RELIST

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        folder = self.data_folder_out
        # the reader takes "<anything>.<queue>.msg"; a name without a dot is never taken
        partial = os.path.join(folder, f"writing-{uuid.uuid4().hex}")
        # named by when it was sent, to the nanosecond and of fixed width: the folder's name order is the
        # order messages were sent in (kombu's milliseconds left those of one millisecond in random order)
        final = os.path.join(folder, f"{time.monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _list_folder(self) -> None:
        started = time.thread_time()  # the listing's own CPU, not the time it waited for the GIL
        listed: dict[str, list[str]] = {}
        for name in os.listdir(self.data_folder_in):
            rest = name.partition(".")[2]
            if rest.endswith(".msg"):
                listed.setdefault(rest[: -len(".msg")], []).append(name)
        self._listed = {queue: deque(sorted(names, key=_age_order)) for queue, names in listed.items()}
        self._listed_at = time.monotonic()
        cost = time.thread_time() - started
        self._relist_after = min(_LONGEST_RELIST, max(_SHORTEST_RELIST, 10 * cost))

    def _get(self, queue: str) -> Any:  # type: ignore[override]
        """The oldest message of ``queue`` not taken by anyone else; ``Empty`` if there is none."""
        waiting = self._listed.get(queue)
        if not waiting and time.monotonic() - self._listed_at >= self._relist_after:
            self._list_folder()
            waiting = self._listed.get(queue)
        folder = self.data_folder_in
        while waiting:
            name = waiting.popleft()
            # Taking a message is renaming it: one reader wins; the others find it gone and move on.
            taken = (
                os.path.join(self.processed_folder, name)
                if self.store_processed
                else os.path.join(folder, f"taken-{uuid.uuid4().hex}")
            )
            try:
                os.rename(os.path.join(folder, name), taken)
            except FileNotFoundError:
                continue
            try:
                with open(taken, "rb") as file:
                    payload = file.read()
                if not self.store_processed:
                    os.remove(taken)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {taken!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: table if entry in table else [entry, *table])

    def _delete(
        self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any
    ) -> None:
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: [bound for bound in table if bound != entry])

    def _change_table(self, exchange: str, change: Callable[[list[Any]], list[Any]]) -> None:
        """Rewrite an exchange's table whole: readers see the old table or the new one, never a part."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        try:
            with open(file.with_suffix(".lock"), "a") as guard:
                fcntl.flock(guard, fcntl.LOCK_EX)  # released when closed
                table = self.get_table(exchange)
                changed = change(table)
                if changed != table:
                    partial = file.with_name(f"writing-{uuid.uuid4().hex}")
                    partial.write_bytes(str_to_bytes(dumps(changed)))
                    os.replace(partial, file)
        except OSError as exc:
            raise ChannelError(f"Cannot write {file}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    polling_interval = POLLING_INTERVAL
