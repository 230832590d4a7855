"""The embedded broker hands a worker whole messages, even while they are being written."""

from __future__ import annotations

import threading
from pathlib import Path
from queue import Empty

from kombu import Connection

from config.celery import app


def _folder_options(tmp_path: Path, **extra: float) -> dict[str, object]:
    """Transport options for a broker in ``tmp_path`` alone (messages and exchange bindings)."""
    folder = str(tmp_path)
    return {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "control_folder": str(tmp_path / "control"),
        **extra,
    }


def test_filesystem_urls_use_the_whole_file_transport() -> None:
    with app.connection_for_write() as connection:
        if connection.transport_cls == "filesystem":
            assert type(connection.transport).__module__ == "herald.core.broker"


def test_a_consumer_racing_the_producer_never_reads_a_half_written_message(tmp_path: Path) -> None:
    options = _folder_options(tmp_path, polling_interval=0.0005)
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

    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("race")  # declared and bound before the consumer starts
        consumer = threading.Thread(target=consume)
        consumer.start()
        for n in range(count):
            queue.put({"n": n, "body": body})
    done.wait(60)
    consumer.join(5)
    assert not errors
    assert sorted(received) == list(range(count))


def test_every_task_is_delivered_to_exactly_one_queue(tmp_path: Path) -> None:
    """The outbox's queue and the default one are bound apart: a task sent to one is not run twice."""
    options = _folder_options(tmp_path)
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.default_channel
        configured = [queue.name for queue in app.conf.task_queues]
        for name in configured:
            app.amqp.queues[name](channel).declare()
        app.send_task("herald.telegram.tasks.outbox_send_task", args=(1,), connection=connection)
        app.send_task("herald.bots.tasks.bot_updates_process_task", args=([1],), connection=connection)
        waiting = {name: channel.queue_declare(name, passive=True).message_count for name in configured}
    assert waiting == {"celery": 1, "outbox": 1}


def test_two_readers_of_one_folder_take_every_message_once_and_in_order(tmp_path: Path) -> None:
    options = _folder_options(tmp_path, polling_interval=0.001)
    with (
        Connection("filesystem://", transport_options=options) as writer,
        Connection("filesystem://", transport_options=options) as first_reader,
        Connection("filesystem://", transport_options=options) as second_reader,
    ):
        sent = writer.SimpleQueue("shared")
        for n in range(300):
            sent.put({"n": n})
        readers = [first_reader.SimpleQueue("shared"), second_reader.SimpleQueue("shared")]
        taken: list[list[int]] = [[], []]
        for n in range(300):
            if n == 150:  # messages sent after both readers listed the folder are found too
                for late in range(300, 400):
                    sent.put({"n": late})
            reader = n % 2
            message = readers[reader].get(timeout=5)
            taken[reader].append(message.payload["n"])
            message.ack()
        for reader in (0, 1):
            while True:
                try:
                    message = readers[reader].get(timeout=0.2)
                except Empty:  # this reader has taken all it will
                    break
                taken[reader].append(message.payload["n"])
                message.ack()
    assert sorted(taken[0] + taken[1]) == list(range(400))
    assert all(numbers == sorted(numbers) for numbers in taken)


def test_a_publisher_reads_whole_exchange_tables_while_queues_are_being_bound(tmp_path: Path) -> None:
    options = _folder_options(tmp_path)
    errors: list[BaseException] = []
    binding = threading.Event()

    def read_tables() -> None:
        with Connection("filesystem://", transport_options=options) as connection:
            channel = connection.default_channel
            while binding.is_set():
                try:
                    channel.get_table("bound-tables")
                except BaseException as exc:  # any failure to read is what the test looks for
                    errors.append(exc)
                    return

    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.default_channel
        channel.exchange_declare("bound-tables", type="direct")
        binding.set()
        reader = threading.Thread(target=read_tables)
        reader.start()
        try:
            for n in range(100):
                channel.queue_declare(f"table-queue-{n}")
                channel.queue_bind(f"table-queue-{n}", "bound-tables", f"key-{n}")
        finally:
            binding.clear()
            reader.join(10)
        table = channel.get_table("bound-tables")
    assert not errors
    assert sorted(bound.queue for bound in table) == sorted(f"table-queue-{n}" for n in range(100))
