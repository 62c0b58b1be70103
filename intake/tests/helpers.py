"""Test helpers for the front desk: valid ID numbers and the POST data of the desk's forms."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from typing import Any

from stdnum.cn import ric

from petitions.models import Channel, ContentCategory, Organ, Purpose

_serial = itertools.count(100)


def valid_id(region: str = "130102", born: date | str = date(1988, 5, 17)) -> str:
    """A resident ID with a correct check character (python-stdnum computes it from a number that
    already has one, hence the placeholder). ``born`` may be a string to build impossible dates."""
    day = born if isinstance(born, str) else f"{born:%Y%m%d}"
    body = f"{region}{day}{next(_serial) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def reps_management(total: int = 0, **rows: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reps-TOTAL_FORMS": str(total),
        "reps-INITIAL_FORMS": "0",
        "reps-MIN_NUM_FORMS": "0",
        "reps-MAX_NUM_FORMS": "5",
    }
    data.update(rows)
    return data


def representatives(people: list[tuple[str, str]]) -> dict[str, Any]:
    data = reps_management(len(people))
    for i, (name, id_number) in enumerate(people):
        data[f"reps-{i}-name"] = name
        data[f"reps-{i}-id_type"] = "resident"
        data[f"reps-{i}-id_number"] = id_number
    return data


def new_case_data(**overrides: Any) -> dict[str, Any]:
    """The desk's registration POST for a new case (a new person unless ``petitioner`` is set)."""
    data: dict[str, Any] = {
        "action": "register",
        "submission_key": str(uuid.uuid4()),
        "visit_of": "new",
        "channel": Channel.objects.get(code="visit").pk,
        "headcount": "1",
        "purpose": Purpose.objects.get(code="appeal").pk,
        "category": ContentCategory.objects.get(code="court.execution").pk,
        "organ": Organ.objects.get(code="court").pk,
        "legal_case_number": "（2024）冀0102执123号",
        "problem_region_code": "130102",
        "is_law_related": "on",
        "request": "请求依法执行判决。",
        "facts_reasons": "判决生效一年未执行。",
        "attachment_kind": "other",
        "name": "王五",
        "sex": "M",
        "id_type": "resident",
        "id_number": valid_id(),
        "phone": "13911112222",
        "address": "石家庄市长安区某路1号",
        "household_registration": "河北省石家庄市",
        "occupation": "农民",
        "notes": "",
        **reps_management(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def kept_code(client: Any, user: Any, case: Any) -> str | None:
    """The query code the desk kept for this client's session's receipt of ``case``."""
    from django.core.cache import cache

    from intake.views import query_code_cache_key

    return cache.get(query_code_cache_key(user.pk, client.session.session_key, case.pk))
