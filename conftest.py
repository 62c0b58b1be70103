"""Shared fixtures: a fixed cast of users across a small center hierarchy (STYLE.md, Tests).

province ─ city ─┬─ county_a
                 └─ county_b
other province (an outsider's center)
Each center has the four departments. The cast works at the city center unless named otherwise.
"""

from __future__ import annotations

import pytest

from core.models import Center, CenterLevel, Department, DepartmentKind, User
from core.roles import Role

PASSWORD = "Test-pass-2026"
KINDS = [
    DepartmentKind.POLICE,
    DepartmentKind.PROCURATORATE,
    DepartmentKind.COURT,
    DepartmentKind.JUSTICE,
]


def make_center(name: str, code: str, level: str, parent: Center | None = None) -> Center:
    center = Center(name=name, region_code=code, level=level, parent=parent)
    center.save()
    for kind in KINDS:
        Department.objects.create(center=center, kind=kind, name=f"{name}-{kind}")
    return center


def make_user(
    username: str, center: Center, roles: list[str], department: Department | None = None
) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        center=center,
        department=department,
        full_name=username,
    )
    user.set_roles(roles)
    return user


class Org:
    def __init__(self) -> None:
        self.province = make_center("省中心", "130000", CenterLevel.PROVINCE)
        self.city = make_center("市中心", "130100", CenterLevel.CITY, self.province)
        self.county_a = make_center("甲县中心", "130121", CenterLevel.COUNTY, self.city)
        self.county_b = make_center("乙县中心", "130123", CenterLevel.COUNTY, self.city)
        self.other_province = make_center("外省中心", "140000", CenterLevel.PROVINCE)

    def dept(self, center: Center, kind: str) -> Department:
        return Department.objects.get(center=center, kind=kind)


@pytest.fixture(autouse=True)
def _fresh_table_caches() -> None:
    """Each test's code tables and deadline rules are its own (rolled back or flushed after it):
    no rows cached in process by an earlier test (core.codecache)."""
    from core.codecache import clear_all

    clear_all()


@pytest.fixture(autouse=True)
def _fresh_shared_cache() -> None:
    """Each test starts with an empty Django cache (this xdist worker's Redis database keeps it
    between tests): per-address rate limits such as the public evaluation page's, cached sessions
    and receipt codes of earlier tests must not decide this one. Only the cache's own keys are
    removed; Celery's broker keys in the same database stay."""
    from django.core.cache import cache

    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        cache.clear()  # not Redis (the embedded smoke test): a file or memory cache
        return
    client = backend.get_client(None, write=True)
    pattern = cache.make_key("*")
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def reference_data(db: None) -> None:
    from campaigns.defaults import ensure_default_score_sheet
    from core.reference_data import ensure_reference_data
    from outreach.defaults_aid import ensure_aid_defaults
    from outreach.defaults_messages import ensure_message_templates

    ensure_reference_data()
    ensure_default_score_sheet()
    ensure_aid_defaults()
    ensure_message_templates()


@pytest.fixture
def org(reference_data: None) -> Org:
    return Org()


@pytest.fixture
def cast(org: Org) -> dict[str, User]:
    c = org.city
    return {
        "reception": make_user("reception", c, [Role.RECEPTION]),
        "triage": make_user("triage", c, [Role.TRIAGE]),
        "police": make_user("police", c, [Role.OFFICER], org.dept(c, DepartmentKind.POLICE)),
        "court": make_user("court", c, [Role.OFFICER], org.dept(c, DepartmentKind.COURT)),
        "procuratorate": make_user(
            "procuratorate", c, [Role.OFFICER], org.dept(c, DepartmentKind.PROCURATORATE)
        ),
        "justice": make_user("justice", c, [Role.OFFICER], org.dept(c, DepartmentKind.JUSTICE)),
        "head": make_user("head", c, [Role.HEAD], org.dept(c, DepartmentKind.POLICE)),
        "supervisor": make_user("supervisor", c, [Role.SUPERVISOR]),
        "leader": make_user("leader", c, [Role.LEADER]),
        "archivist": make_user("archivist", c, [Role.ARCHIVIST]),
        "admin": make_user("admin", c, [Role.ADMIN]),
        "province_supervisor": make_user("province_supervisor", org.province, [Role.SUPERVISOR]),
        "county_reception": make_user("county_reception", org.county_a, [Role.RECEPTION]),
        "county_triage": make_user("county_triage", org.county_a, [Role.TRIAGE]),
        "county_police": make_user(
            "county_police",
            org.county_a,
            [Role.OFFICER],
            org.dept(org.county_a, DepartmentKind.POLICE),
        ),
        "outsider": make_user(
            "outsider", org.other_province, [Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR]
        ),
    }
