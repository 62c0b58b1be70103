"""A file backend that is slow on purpose, for the worker-kill test
(outreach/tests/test_messages_worker.py): it records every call in a journal next to the message
files, then sleeps SMS_TEST_SEND_DELAY_MS after writing, so the test can kill the worker between
two sends of a batch (the files written, the rows not yet marked sent)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from outreach.sms.filebased import FileBackend


def journal_path(directory: Path) -> Path:
    return directory.parent / "sms-calls.txt"


class SlowFileBackend(FileBackend):
    def send(self, *, message_id: int, dedupe_key: str, phone: str, text: str) -> str:
        gateway_id = super().send(
            message_id=message_id, dedupe_key=dedupe_key, phone=phone, text=text
        )
        with journal_path(self.directory).open("a", encoding="utf-8") as journal:
            journal.write(dedupe_key + "\n")
        time.sleep(int(os.environ.get("SMS_TEST_SEND_DELAY_MS", "0")) / 1000)
        return gateway_id
