"""An HTTP gateway (production): POST JSON to settings.SMS_GATEWAY_URL with the token
settings.SMS_GATEWAY_TOKEN as a bearer token. The dedupe key is the client message id
(``client_msg_id``), so the gateway drops a message sent again after a worker crash.

Request: ``{"client_msg_id": key, "phone": "138...", "text": "..."}``; a 2xx answer may carry
``{"id": "..."}`` (the gateway's id; the key otherwise). Anything else raises SmsError, whose text
names the status only (a gateway's error body may echo the number)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from .base import BaseSmsBackend, SmsError


class HttpGatewayBackend(BaseSmsBackend):
    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> None:
        self.url = url or settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.timeout = timeout or settings.SMS_GATEWAY_TIMEOUT
        if not self.url.startswith(("https://", "http://")):
            raise SmsError("SMS_GATEWAY_URL is not an http(s) address")

    def send(self, *, message_id: int, dedupe_key: str, phone: str, text: str) -> str:
        body = json.dumps(
            {"client_msg_id": dedupe_key, "phone": phone, "text": text}, ensure_ascii=False
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": dedupe_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"gateway unreachable ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise SmsError(f"gateway answered {status}")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        gateway_id = answer.get("id") if isinstance(answer, dict) else None
        return str(gateway_id or dedupe_key)[:100]
