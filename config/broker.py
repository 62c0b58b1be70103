"""The embedded broker of `make run` without REDIS_URL: Kombu's filesystem transport, publishing
atomically.

Kombu's own filesystem channel creates the message file under its final name and only then writes
it, while a consumer moves and reads any file with that name without taking the lock: a worker
polling at that instant reads an empty file, fails with JSONDecodeError and its consumer dies, so
scheduled checks stop (seen after `seed_demo --cases 50`, whose hundreds of notification tasks
are published while the worker drains them). Here a message is written under a name the consumer
ignores and renamed into place (a rename is atomic within a folder), so a consumer sees a whole
message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "fsatomic"


class Channel(filesystem.Channel):
    # (the stubs of the virtual and the filesystem channel name the argument differently)
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # "<name>.part": the consumer only takes files whose name ends in ".<queue>.msg"
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """Make ``fsatomic://`` known to Kombu in every process that reads the settings (web, worker,
    beat, management commands)."""
    TRANSPORT_ALIASES.setdefault(SCHEME, "config.broker:Transport")
