"""The interface of a text message gateway (outreach.sms)."""

from __future__ import annotations


class SmsError(Exception):
    """A gateway refused or failed a message. Its text is stored on the message
    (``last_error``) and logged, so it must never carry the number or the text."""


class BaseSmsBackend:
    def send(self, *, message_id: int, dedupe_key: str, phone: str, text: str) -> str:
        """Hand one message to the gateway and return the gateway's id for it. Raise on failure
        (the worker retries with backoff). Sending the same ``dedupe_key`` again must not
        deliver it twice."""
        raise NotImplementedError
