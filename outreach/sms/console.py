"""Prints each message to standard output with the number masked (development)."""

from __future__ import annotations

import sys

from core.pii import mask_phone

from .base import BaseSmsBackend


class ConsoleBackend(BaseSmsBackend):
    def send(self, *, message_id: int, dedupe_key: str, phone: str, text: str) -> str:
        sys.stdout.write(f"[SMS {dedupe_key}] to {mask_phone(phone)}: {text}\n")
        sys.stdout.flush()
        return f"console:{message_id}"
