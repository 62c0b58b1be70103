"""Input validation shared by forms and API serializers: ID numbers, attachments, text."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.iso7064 import mod_11_2

from core.pii import upgrade_resident_id

from .models import IdType, Sex

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
# The longest free text a form or the API takes in one field (a request, facts and reasons, notes):
# a long letter fits; more goes in as an attached file.
MAX_TEXT_LENGTH = 20_000
ALLOWED_EXTENSIONS = {
    ".pdf",
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".doc",
    ".docx",
    ".txt",
    ".ofd",
}
# Magic numbers of executables and scripts, refused whatever the file is called.
EXECUTABLE_SIGNATURES = (
    b"MZ",
    b"\x7fELF",
    b"#!",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xfe\xed\xfa",
)
# What the first bytes of a file of each type are: a file whose content is not of the type its
# name says (a PNG called .pdf, a renamed archive) is refused. Plain text has no signature: it is
# refused when it starts like a binary file of another type.
_ZIP = (b"PK\x03\x04",)
CONTENT_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".docx": _ZIP,
    ".ofd": _ZIP,
}
_BINARY_SIGNATURES = tuple(sig for sigs in CONTENT_SIGNATURES.values() for sig in sigs)


def validate_resident_id(value: str) -> str:
    """Resident ID: region code, birth date and ISO 7064 MOD 11-2 check character (18
    characters), or the first-generation 15-digit form (region, two-digit year of a 19xx birth
    date, serial; no check character). Returns the compact form as typed (a lower-case x is
    read as X); ``canonical_resident_id`` gives the 18-character form it is indexed under.
    Raises ValidationError with a message naming what is wrong.

    Not ``stdnum.cn.ric.validate``: it also requires the county code to have existed in the
    birth year, which refuses everyone born before a county was renamed (the code on the card is
    the one in force when it was issued). The region must simply be a known GB/T 2260 code."""
    compact = "".join(value.split()).replace("-", "").upper()
    if len(compact) == 15:
        if not compact.isdigit():
            raise ValidationError(
                _("An old 15-digit resident ID number has digits only."), code="format"
            )
        full = upgrade_resident_id(compact)
    elif len(compact) == 18:
        if not compact[:17].isdigit() or not (compact[17].isdigit() or compact[17] == "X"):
            raise ValidationError(
                _("A resident ID number is 17 digits followed by a digit or X."), code="format"
            )
        full = compact
    else:
        raise ValidationError(
            _("A resident ID number has 18 characters (or 15 digits on an old card)."),
            code="length",
        )
    try:
        born = datetime.strptime(full[6:14], "%Y%m%d").date()
    except ValueError:
        raise ValidationError(
            _("The birth date in this ID number is impossible."), code="birth_date"
        ) from None
    if born > date.today() or born.year < 1880:
        raise ValidationError(
            _("The birth date in this ID number is impossible."), code="birth_date"
        )
    if not region_is_known(full[:6]):
        raise ValidationError(_("The region code in this ID number is unknown."), code="region")
    if not mod_11_2.is_valid(full):
        raise ValidationError(
            _(
                "The check character (the last one) of this ID number is wrong: a digit was "
                "probably mistyped. Check the number on the card."
            ),
            code="checksum",
        )
    return compact


def canonical_resident_id(value: str) -> str:
    """The 18-character form of a resident ID (a 15-digit one is upgraded)."""
    return upgrade_resident_id(value)


def identity_hints(id_number: str) -> tuple[str, date] | None:
    """Sex and birth date as a valid resident ID number states them (the 17th character, or the
    15th of an old one, is odd for a man), or None for a number that is not a valid resident
    ID."""
    try:
        validate_resident_id(id_number)
    except ValidationError:
        return None
    full = upgrade_resident_id(id_number)
    sex = Sex.MALE if int(full[16]) % 2 else Sex.FEMALE
    return sex, datetime.strptime(full[6:14], "%Y%m%d").date()


def looks_like_resident_id(value: str) -> bool:
    """Digits only (the last may be X), 14 to 19 long: a resident ID number, maybe mistyped,
    rather than a passport or permit number."""
    compact = "".join(value.split()).replace("-", "").upper()
    body = compact[:-1] if compact.endswith("X") else compact
    if len(compact) == 18 and compact.startswith("9"):
        return False  # the 18-digit foreigner permanent residence ID (2023) starts with 9
    return body.isdigit() and 14 <= len(compact) <= 19


def validate_lookup_id_number(value: str, id_type: str | None = None) -> str:
    """An ID number typed to find a person. What looks like a resident ID is checked like one
    (length, birth date, region, check character), so that a typing error is reported instead of
    a person silently not being found; other ID types are checked for their form only."""
    compact = "".join(value.split()).replace("-", "").upper()
    if not compact:
        return ""
    if id_type:
        return validate_id_number(id_type, compact)
    if looks_like_resident_id(compact):
        return validate_resident_id(compact)
    return validate_id_number(IdType.OTHER, compact)


def region_is_known(code: str) -> bool:
    """A GB/T 2260 county-level code known to python-stdnum's region database."""
    if not (code.isdigit() and len(code) == 6):
        return False
    parts = numdb.get("cn/loc").info(code)
    return len(parts) > 1 and bool(parts[1][1])


def validate_region_code(value: str) -> str:
    value = value.strip()
    if value and not region_is_known(value):
        raise ValidationError(
            _("Unknown region code %(code)s (six digits, GB/T 2260).") % {"code": value},
            code="region",
        )
    return value


def validate_id_number(id_type: str, value: str) -> str:
    value = "".join(value.split()).upper()
    if not value:
        return ""
    if id_type == IdType.RESIDENT:
        return validate_resident_id(value)
    if id_type == IdType.NONE:
        raise ValidationError(_("Choose an ID type for this number."), code="type")
    if not value.isalnum() or not 5 <= len(value) <= 20:
        raise ValidationError(_("An ID number has 5 to 20 letters and digits."), code="format")
    return value


def validate_phone(value: str) -> str:
    compact = "".join(value.split()).replace("-", "")
    if not compact:
        return ""
    if compact.startswith("+"):
        compact = "+" + compact[1:]
        digits = compact[1:]
    else:
        digits = compact
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise ValidationError(_("Enter a phone number of 7 to 15 digits."), code="phone")
    return compact


def validate_attachment(upload: UploadedFile) -> None:
    name = upload.name or ""
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            _("“%(name)s”: files of this type are not accepted (allowed: %(types)s).")
            % {"name": name, "types": ", ".join(sorted(ALLOWED_EXTENSIONS))},
            code="type",
        )
    if (upload.size or 0) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than %(mb)d MB.")
            % {"name": name, "mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
            code="size",
        )
    upload.seek(0)  # a file read before (saved once already) is checked from its start
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(EXECUTABLE_SIGNATURES):
        raise ValidationError(
            _("“%(name)s” is an executable file and is not accepted.") % {"name": name},
            code="executable",
        )
    expected = CONTENT_SIGNATURES.get(ext)
    if (expected is not None and not head.startswith(expected)) or (
        expected is None and head.startswith(_BINARY_SIGNATURES)
    ):
        raise ValidationError(
            _("“%(name)s”: the content of the file does not match its file type.") % {"name": name},
            code="content",
        )
