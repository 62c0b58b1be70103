"""Judicial aid test helpers (helper G's part): the clock stopped on a Monday without holidays
around it, an explicit cap rule (so hand counts do not depend on the seeded example) and the
steps of an application's life through the services.

Imported by outreach/tests/test_aid*.py (``from outreach.tests.fixtures_aid import *``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from clocks.deadlines import CHINA_TZ
from core.models import DepartmentKind, User
from core.roles import Role
from outreach.models import (
    AidApplication,
    AidCapRule,
    AidCircumstance,
    EligibilityQuestion,
)
from outreach.services import aid
from petitions.models import Case

# Monday 2 March 2026, 09:00 Beijing: 10 working days later is Monday 16 March (no holiday
# between: 3-6, 9-13, 16 March).
AID_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)
DECISION_DUE = datetime(2026, 3, 16, 23, 59, 59, tzinfo=CHINA_TZ)
# 36 months × 5,000.00 yuan = 180,000.00 yuan; a leader approves above 50,000.00.
WAGE = Decimal("5000.00")
CAP = Decimal("180000.00")
THRESHOLD = Decimal("50000.00")


def pdf(name: str = "judgment.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


@pytest.fixture
def aid_clock() -> Iterator[Any]:
    """The clock stopped at AID_NOW (ask for it before the case fixtures)."""
    with time_machine.travel(AID_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cap_rule(reference_data: None) -> AidCapRule:
    AidCapRule.objects.filter(province_region_code="130000").delete()
    return AidCapRule.objects.create(
        province_region_code="130000",
        year=2026,
        average_monthly_wage=WAGE,
        months=36,
        leader_threshold=THRESHOLD,
    )


@pytest.fixture
def court_head(org: Any) -> User:
    """The head of another department of county_a (the court): not the deciding organ."""
    from conftest import make_user

    return make_user(
        "county_court_head", org.county_a, [Role.HEAD], org.dept(org.county_a, DepartmentKind.COURT)
    )


def apply(actor: User, case: Case, amount: str = "30000", **overrides: Any) -> AidApplication:
    case.refresh_from_db()
    values: dict[str, Any] = {
        "applicant": case.main_petitioner,
        "circumstance": AidCircumstance.UNENFORCED_JUDGMENT,
        "circumstances": "判决确定的赔偿款因被执行人无财产无法执行，申请人因伤丧失劳动能力，生活困难。",
        "requested_amount": Decimal(amount),
        "expected_version": case.version,
    }
    values.update(overrides)
    return aid.apply_for_aid(actor=actor, case=case, **values)


def complete(actor: User, application: AidApplication) -> AidApplication:
    application.refresh_from_db()
    return aid.mark_complete(
        actor=actor, application=application, expected_version=application.version
    )


def answer_all(actor: User, application: AidApplication, answer: str = "yes") -> None:
    application.refresh_from_db()
    aid.answer_eligibility(
        actor=actor,
        application=application,
        answers=[
            {"question": q.pk, "answer": answer, "reason": f"经核实（第{n}项）"}
            for n, q in enumerate(EligibilityQuestion.objects.filter(is_active=True), start=1)
        ],
        expected_version=application.version,
    )


def decide(
    actor: User, application: AidApplication, decision: str = "grant", **kw: Any
) -> AidApplication:
    application.refresh_from_db()
    return aid.decide_aid(
        actor=actor,
        application=application,
        decision=decision,
        expected_version=application.version,
        **kw,
    )


__all__ = [
    "AID_NOW",
    "CAP",
    "DECISION_DUE",
    "THRESHOLD",
    "WAGE",
    "aid_clock",
    "answer_all",
    "apply",
    "cap_rule",
    "complete",
    "court_head",
    "decide",
    "pdf",
]
