"""Protection of ID and phone numbers at rest (PIPL Arts 28, 34).

Each number is stored twice: encrypted (Fernet, so it can be revealed to a role that needs it) and as
a keyed HMAC "blind index" (so the front desk finds a person by exact number with an index lookup,
without the database ever holding the number in clear). Both keys derive from settings.PII_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from stdnum.iso7064 import mod_11_2


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    enc = hashlib.sha256(b"pii-encryption:" + secret.encode()).digest()
    idx = hashlib.sha256(b"pii-blind-index:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(enc)), idx


def normalize(value: str) -> str:
    """Spaces and hyphens are typing noise; resident IDs end in an upper-case X."""
    return "".join(value.split()).replace("-", "").upper()


RESIDENT_ID_TYPE = "resident"  # petitions.models.IdType.RESIDENT (core sits below petitions)


def upgrade_resident_id(value: str) -> str:
    """The 18-character form of a 15-digit (first-generation) resident ID: "19" goes before the
    two-digit birth year and the ISO 7064 MOD 11-2 check character is appended. Any other value
    comes back normalised and otherwise unchanged."""
    compact = normalize(value)
    if len(compact) != 15 or not compact.isdigit():
        return compact
    body = compact[:6] + "19" + compact[6:]
    return body + mod_11_2.calc_check_digit(body)


def canonical_id_number(value: str, id_type: str = RESIDENT_ID_TYPE) -> str:
    """The form a person's ID number is indexed under: the 18-character form for a resident ID
    typed in its old 15-digit form, so the same person typed either way is one file."""
    compact = normalize(value)
    return upgrade_resident_id(compact) if id_type == RESIDENT_ID_TYPE else compact


def id_number_index(value: str, id_type: str = RESIDENT_ID_TYPE) -> str:
    """The blind index of an ID number as stored on a file (on its canonical form)."""
    return blind_index(canonical_id_number(value, id_type))


def id_number_lookup_keys(value: str, id_type: str | None = None) -> list[str]:
    """Blind indexes under which a typed ID number may be stored: its canonical resident-ID
    form and, when the ID type is not given, the number as typed (another ID type)."""
    if not normalize(value):
        return []
    if id_type is not None:
        return [id_number_index(value, id_type)]
    return list(dict.fromkeys([id_number_index(value), blind_index(value)]))


def blind_index(value: str) -> str:
    if not value:
        return ""
    _, key = _keys(settings.PII_KEY)
    return hmac.new(key, normalize(value).encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    if not value:
        return ""
    fernet, _ = _keys(settings.PII_KEY)
    return fernet.encrypt(normalize(value).encode()).decode()


def encrypt_text(value: str) -> str:
    """Encrypt a free text as it is (no number normalisation): e.g. a message to a person
    carrying their query code (outreach.Message.body_enc). Read back with ``decrypt``."""
    if not value:
        return ""
    fernet, _ = _keys(settings.PII_KEY)
    return fernet.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    fernet, _ = _keys(settings.PII_KEY)
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def mask_id(value: str) -> str:
    """``130102199001011234`` → ``1301**********1234`` (DOMAIN.md §3)."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 2) + value[-1:]
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
