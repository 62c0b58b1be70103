"""Writes each message to a file of its own under settings.SMS_FILE_PATH (``make run`` and the
tests): the file is named by the message's dedupe key and written atomically (a temporary file
renamed into place), and never written again once it exists, so a message sent again after a
worker crash shows once. The file holds the masked number and the text as the person reads it
(with its query code or link: the development stand-in for the phone)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from core.pii import mask_phone

from .base import BaseSmsBackend


def file_name(dedupe_key: str) -> str:
    """The key, quoted to a safe file name (reversible, so two keys never share a file); a key
    too long for a file name is hashed."""
    name = quote(dedupe_key, safe="-_.")
    if len(name) > 200:
        name = "sha256-" + hashlib.sha256(dedupe_key.encode()).hexdigest()
    return name + ".json"


class FileBackend(BaseSmsBackend):
    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory or settings.SMS_FILE_PATH)

    def path_for(self, dedupe_key: str) -> Path:
        return self.directory / file_name(dedupe_key)

    def send(self, *, message_id: int, dedupe_key: str, phone: str, text: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(dedupe_key)
        gateway_id = f"file:{target.name}"
        if target.exists():
            return gateway_id
        payload = {
            "message_id": message_id,
            "dedupe_key": dedupe_key,
            "to": mask_phone(phone),
            "text": text,
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, ensure_ascii=False, indent=2)
                out.flush()
                os.fsync(out.fileno())
            # link() fails when the target exists (a concurrent sender of the same key got
            # there first): never replaced, unlike rename(). Both are atomic.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
        finally:
            os.unlink(tmp)
        return gateway_id
