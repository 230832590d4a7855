"""The embedded broker hands a worker whole messages, even while they are being written."""

from __future__ import annotations

import threading
from pathlib import Path

from kombu import Connection

from config.celery import app


def test_filesystem_urls_use_the_whole_file_transport() -> None:
    with app.connection_for_write() as connection:
        if connection.transport_cls == "filesystem":
            assert type(connection.transport).__module__ == "herald.core.broker"


def test_a_consumer_racing_the_producer_never_reads_a_half_written_message(tmp_path: Path) -> None:
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder, "polling_interval": 0.0005}
    # large messages widen the moment between creating a file and finishing it
    body = "x" * 2_000_000
    count = 100
    received: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def consume() -> None:
        try:
            with Connection("filesystem://", transport_options=options) as connection:
                queue = connection.SimpleQueue("race")
                while len(received) < count:
                    message = queue.get(timeout=10)
                    assert message.payload["body"] == body
                    received.append(message.payload["n"])
                    message.ack()
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("race")
        for n in range(count):
            queue.put({"n": n, "body": body})
    done.wait(60)
    consumer.join(5)
    assert not errors
    assert sorted(received) == list(range(count))
