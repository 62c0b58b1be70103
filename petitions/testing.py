"""Helpers for tests and demo data: valid resident ID numbers and registered cases."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

from stdnum.iso7064 import mod_11_2

from core.models import User

from .models import Channel, ContentCategory, Organ, Petitioner, Purpose
from .services import CaseData, PetitionerData, Registration, register_case, upsert_petitioner

COUNTIES = [
    "130102",
    "130104",
    "130105",
    "130121",
    "130123",
    "130125",
    "130181",
    "130183",
    "130203",
    "130302",
]


def resident_id(
    rng: random.Random | None = None,
    *,
    region: str | None = None,
    born: date | None = None,
    sex: str | None = None,
) -> str:
    """A valid 18-character resident ID (region, birth date, sequence, MOD 11-2 check character)."""
    rng = rng or random.Random()
    region = region or rng.choice(COUNTIES)
    born = born or date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    seq = rng.randrange(0, 1000)
    if sex == "M" and seq % 2 == 0:
        seq = (seq + 1) % 1000
    if sex == "F" and seq % 2 == 1:
        seq = (seq + 1) % 1000
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + mod_11_2.calc_check_digit(body)


def case_data(**overrides: Any) -> CaseData:
    defaults: dict[str, Any] = {
        "channel": Channel.objects.get(code="visit"),
        "purpose": Purpose.objects.get(code="appeal"),
        "category": ContentCategory.objects.get(code="court.execution"),
        "organ": Organ.objects.get(code="court"),
        "request": "请求法院依法执行（2024）冀0102执123号判决。",
        "facts_reasons": "判决生效已一年，至今未执行到位。",
    }
    defaults.update(overrides)
    return CaseData(**defaults)


def make_petitioner(
    actor: User,
    name: str = "张三",
    id_number: str | None = None,
    phone: str = "13812345678",
    **extra: Any,
) -> Petitioner:
    return upsert_petitioner(
        actor=actor,
        data=PetitionerData(name=name, id_number=id_number or resident_id(), phone=phone, **extra),
    )


_matter_serial = itertools.count(1)


def register(actor: User, petitioner: Petitioner | None = None, **overrides: Any) -> Registration:
    """Register a case; each call is its own matter (a related legal case number of its own)
    unless ``legal_case_number`` is given, so that registering one person twice is not refused
    as the same matter (petitions.services.is_same_matter)."""
    petitioner = petitioner or make_petitioner(actor)
    overrides.setdefault("legal_case_number", f"（2024）冀0102执{next(_matter_serial)}号")
    reps = overrides.pop("representatives", ())
    key = overrides.pop("submission_key", None)
    return register_case(
        actor=actor,
        petitioner=petitioner,
        data=case_data(**overrides),
        representatives=reps,
        submission_key=key,
    )
