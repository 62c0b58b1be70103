"""Cases to hang deadlines on. Built directly (not through petitions.services) so these tests do
not depend on the intake rules; only the fields a Case requires are set."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

import pytest

from clocks.deadlines import CHINA_TZ
from core.models import Center, User
from petitions.models import Case, Channel, ContentCategory, Petitioner, Purpose

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _seeded_calendar_and_rules(reference_data):
    """Every test here reads the migration-seeded rules and holidays, which a transactional test
    elsewhere in the run may have flushed; the root conftest's fixture puts them back."""


@pytest.fixture
def make_case(org, cast) -> Callable[..., Case]:
    channel, _ = Channel.objects.get_or_create(code="t-clk-visit", defaults={"name": "来访"})
    purpose, _ = Purpose.objects.get_or_create(code="t-clk-complaint", defaults={"name": "申诉"})
    category, _ = ContentCategory.objects.get_or_create(
        code="t-clk-police", defaults={"name": "公安"}
    )
    petitioner = Petitioner.objects.create(name="张三")

    def make(center: Center | None = None, registered_by: User | None = None) -> Case:
        center = center or org.city
        now = datetime(2026, 2, 9, 9, 0, tzinfo=CHINA_TZ)
        n = next(_serial)
        return Case.objects.create(
            number=f"T{center.region_code}{n:06d}",
            query_code_hash=f"{n:064d}",
            center=center,
            origin_center=center,
            state_changed_at=now,
            registered_at=now,
            registered_by=registered_by or cast["reception"],
            channel=channel,
            purpose=purpose,
            category=category,
            request="请求依法处理",
            main_petitioner=petitioner,
        )

    return make


@pytest.fixture
def case(make_case) -> Case:
    return make_case()


@pytest.fixture
def superuser_client(client, cast):
    # Not pytest-django's admin_client: its user is called "admin", which the cast already uses.
    user = User.objects.create_superuser("calendar-admin", "calendar-admin@example.org", "x" * 12)
    client.force_login(user)
    return client
