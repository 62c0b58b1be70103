"""The one-time evaluation link's token.

The token is an HMAC of a random per-link salt under a key derived from SECRET_KEY; the database
stores the salt and a SHA-256 hash of the token, never the token. So the lead department can print
the reply (with its QR code) again, while a copy of the database alone opens no link; the public
page finds the link by the hash (an indexed unique column) and compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.urls import reverse


def _key() -> bytes:
    return hashlib.sha256(b"closure-evaluation-link:" + settings.SECRET_KEY.encode()).digest()


def new_salt() -> str:
    return secrets.token_hex(16)


def token_for(salt: str) -> str:
    digest = hmac.new(_key(), salt.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(b"evaluation-token:" + token.encode()).hexdigest()


def evaluation_path(case_id: int, token: str) -> str:
    """The public evaluation page of ``case_id`` (relative; views make it absolute)."""
    return reverse("closure_public:evaluate", args=[case_id, token])
