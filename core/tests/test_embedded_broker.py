"""The embedded broker (config/broker.py): a consumer draining the queue while another thread
publishes never reads a half-written message. Kombu's own filesystem channel creates the file
under its final name before writing it, and a consumer polling at that instant read an empty file
and died with JSONDecodeError (the worker of `make run` stopped after a demo seed)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from kombu import Connection

from config.broker import SCHEME, register

MESSAGES = 400


def _connection(folder: Path) -> Connection:
    register()
    return Connection(
        f"{SCHEME}://",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "polling_interval": 0,
        },
    )


def test_a_consumer_never_reads_a_half_written_message(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    received: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def publish() -> None:
        with _connection(folder) as conn:
            queue = conn.SimpleQueue("stress")
            for i in range(MESSAGES):
                queue.put({"n": i, "pad": "x" * 2000})
            queue.close()
        done.set()

    def consume() -> None:
        with _connection(folder) as conn:
            queue = conn.SimpleQueue("stress")
            try:
                while len(received) < MESSAGES:
                    try:
                        message = queue.get(block=True, timeout=0.05)
                    except queue.Empty:
                        if done.is_set() and not any(folder.glob("*.msg")):
                            break
                        continue
                    received.append(message.payload["n"])
                    message.ack()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                queue.close()

    consumer = threading.Thread(target=consume)
    consumer.start()
    publish()
    consumer.join(120)
    assert not errors, errors[0]
    assert sorted(received) == list(range(MESSAGES))
    # nothing left behind: no message, no partial file
    assert not [n for n in os.listdir(folder) if n.endswith((".msg", ".part"))]
