"""The default eligibility checklist and the example cap rule (outreach.defaults_aid)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from outreach.defaults_aid import DEFAULT_QUESTIONS, ensure_aid_defaults
from outreach.models import AidCapRule, EligibilityQuestion

pytestmark = pytest.mark.django_db


def test_defaults_seed_the_checklist_and_the_example_rule_once(reference_data: None) -> None:
    ensure_aid_defaults()  # a second time: nothing doubled
    assert EligibilityQuestion.objects.filter(is_active=True).count() == len(DEFAULT_QUESTIONS) == 8
    first = EligibilityQuestion.objects.first()
    assert first is not None and first.text.startswith("刑事案件被害人受到犯罪侵害，致使重伤")
    rule = AidCapRule.objects.get(province_region_code="130000", year=timezone.localdate().year)
    assert rule.months == 36
    assert rule.average_monthly_wage == Decimal("7000.00")
    assert rule.cap == Decimal("252000.00")  # 36 × 7,000
    assert AidCapRule.objects.count() == 1
