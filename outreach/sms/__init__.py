"""Text message gateways, pluggable like Django's e-mail backends: settings.SMS_BACKEND names
the class (``outreach.sms.filebased.FileBackend`` by default, ``outreach.sms.console
.ConsoleBackend``, ``outreach.sms.http.HttpGatewayBackend`` in production).

A backend must be idempotent by ``dedupe_key``: the worker marks messages sent after the gateway
took them, so a worker killed in between sends them again, and the gateway (or the file
backend) must show each key once."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSmsBackend, SmsError

__all__ = ["BaseSmsBackend", "SmsError", "get_backend"]


def get_backend(path: str | None = None) -> BaseSmsBackend:
    cls = import_string(path or settings.SMS_BACKEND)
    backend = cls()
    if not isinstance(backend, BaseSmsBackend):
        raise TypeError(f"{path or settings.SMS_BACKEND} is not an SMS backend")
    return backend
