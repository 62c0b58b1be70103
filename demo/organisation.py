"""Demo organisation and users (``manage.py seed_demo``). Idempotent: running it again changes nothing.

Every center (province, city, two counties) is staffed for the whole workflow, so that a case can
be carried to its end with demo users only: a county reply is reviewed at the city and re-reviewed
at the province (Arts 35-36), a termination is approved at the province (Art 37), and every
department can have its reply approved by its own head.

Usernames: ``<center prefix>_<role>``; the city center has no prefix, so the first demo logins
(``reception``, ``police``, ``head`` …) keep working.

- center prefix: ``prov`` (province), none (city), ``jx`` (井陉县), ``zd`` (正定县);
- center-wide roles: ``reception``, ``triage``, ``supervisor``, ``leader``, ``archivist``;
- departments: ``police``, ``procuratorate``, ``court``, ``justice`` (the officer) and
  ``<organ>_head`` (the head); the city's police head is plain ``head`` (the first demo login);
- ``admin`` (city, also Django admin).

So ``jx_court_head`` is the head of 井陉县人民法院, ``prov_supervisor`` a supervisor of the province.
A review or re-review is decided by a supervisor or leader of the reviewing center
(``appeals.services.DECIDING_ROLES``): every center has both, two distinct deciders, so a province
center's own re-review never falls to whoever decided its review.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.db import transaction

from core.models import Center, CenterLevel, Department, DepartmentKind, User, UserRole
from core.roles import Role

DEMO_PASSWORD = "Demo-pass-2026"

# (region code, name, level, parent region code) — Hebei, as in the seed report.
DEMO_CENTERS = [
    ("130000", "河北省涉法涉诉联合接访服务中心", CenterLevel.PROVINCE, None),
    ("130100", "石家庄市涉法涉诉联合接访服务中心", CenterLevel.CITY, "130000"),
    ("130121", "井陉县涉法涉诉联合接访服务中心", CenterLevel.COUNTY, "130100"),
    ("130123", "正定县涉法涉诉联合接访服务中心", CenterLevel.COUNTY, "130100"),
]
DEMO_DEPARTMENTS = [
    (DepartmentKind.POLICE, "公安局"),
    (DepartmentKind.PROCURATORATE, "人民检察院"),
    (DepartmentKind.COURT, "人民法院"),
    (DepartmentKind.JUSTICE, "司法局"),
]
# The city center: the first demo logins (no prefix) work there.
DEMO_CENTER = "130100"
PROVINCE_CENTER, COUNTY_CENTERS = "130000", ("130121", "130123")
# region code → username prefix (see the module docstring) and the short name in full names.
CENTER_PREFIX = {"130000": "prov", "130100": "", "130121": "jx", "130123": "zd"}
CENTER_SHORT = {"130000": "省", "130100": "市", "130121": "井陉", "130123": "正定"}

CENTER_ROLE_TITLES: list[tuple[str, str]] = [
    (Role.RECEPTION, "接待员"),
    (Role.TRIAGE, "审查员"),
    (Role.SUPERVISOR, "督办员"),
    (Role.LEADER, "领导"),
    (Role.ARCHIVIST, "归档员"),
]
ORGAN_TITLES = {
    DepartmentKind.POLICE: "公安",
    DepartmentKind.PROCURATORATE: "检察",
    DepartmentKind.COURT: "法院",
    DepartmentKind.JUSTICE: "司法",
}
# The first demo users keep their names; the others get one of these, in order.
CITY_NAMES = {
    "reception": "王芳",
    "triage": "李强",
    "police": "张伟",
    "procuratorate": "刘洋",
    "court": "陈静",
    "justice": "杨军",
    "head": "赵磊",
    "supervisor": "孙丽",
    "leader": "周明",
    "archivist": "吴敏",
    "admin": "郑浩",
}
GIVEN_NAMES = [
    "黄磊",
    "马超",
    "胡静",
    "郭勇",
    "何娜",
    "高峰",
    "林涛",
    "罗敏",
    "梁斌",
    "宋洁",
    "谢军",
    "韩雪",
    "唐亮",
    "冯婷",
    "于洋",
    "董梅",
    "程刚",
    "曹颖",
    "袁杰",
    "邓丽",
    "许鹏",
    "傅琳",
    "沈浩",
    "曾燕",
    "彭飞",
    "吕倩",
    "苏辉",
    "卢娟",
    "蒋凯",
    "蔡霞",
    "贾鑫",
    "丁玲",
    "魏东",
    "薛萍",
    "叶帆",
    "阎红",
    "潘宇",
    "杜蓉",
    "戴勇",
    "夏瑶",
    "田宁",
    "任佳",
    "姜华",
    "范淑",
    "方建",
    "石欣",
]


class DemoUser(NamedTuple):
    full_name: str
    roles: list[str]
    department: str | None  # department kind at the user's center
    center: str  # region code


def demo_username(center: str, role: str, organ: str | None = None) -> str:
    """The demo username for ``role`` at ``center`` (of the department ``organ`` for officer/head)."""
    if role == Role.ADMIN:
        return "admin"
    if role == Role.OFFICER:
        base = str(organ)
    elif role == Role.HEAD:
        base = (
            "head" if center == DEMO_CENTER and organ == DepartmentKind.POLICE else f"{organ}_head"
        )
    else:
        base = str(role)
    prefix = CENTER_PREFIX[center]
    return f"{prefix}_{base}" if prefix else base


def _demo_users() -> dict[str, DemoUser]:
    users: dict[str, DemoUser] = {}
    names = iter(GIVEN_NAMES)

    def add(username: str, title: str, roles: list[str], organ: str | None, center: str) -> None:
        name = CITY_NAMES.get(username) if center == DEMO_CENTER else None
        short = "" if center == DEMO_CENTER else CENTER_SHORT[center]
        users[username] = DemoUser(f"{short}{title} {name or next(names)}", roles, organ, center)

    for center, _name, _level, _parent in DEMO_CENTERS:
        for role, title in CENTER_ROLE_TITLES:
            add(demo_username(center, role), title, [role], None, center)
        for organ, short in ORGAN_TITLES.items():
            add(
                demo_username(center, Role.OFFICER, organ),
                f"{short}承办人",
                [Role.OFFICER],
                organ,
                center,
            )
            add(
                demo_username(center, Role.HEAD, organ),
                f"{short}负责人",
                [Role.HEAD],
                organ,
                center,
            )
    add("admin", "管理员", [Role.ADMIN], None, DEMO_CENTER)
    return users


# username → (full name, roles, department kind or None, center region code)
DEMO_USERS: dict[str, DemoUser] = _demo_users()


@lru_cache(maxsize=1)
def demo_password_hash() -> str:
    # Hashed once for all demo users: the hasher is slow on purpose (~0.3 s a hash in production).
    return make_password(DEMO_PASSWORD)


@transaction.atomic
def seed_organisation() -> dict[str, Center]:
    centers: dict[str, Center] = {}
    for code, name, level, parent_code in DEMO_CENTERS:
        center = Center.objects.filter(region_code=code).first()
        if center is None:
            center = Center(
                region_code=code, name=name, level=level, parent=centers.get(parent_code or "")
            )
            center.save()
        centers[code] = center
        for kind, dept_name in DEMO_DEPARTMENTS:
            Department.objects.get_or_create(center=center, name=dept_name, defaults={"kind": kind})
    return centers


@transaction.atomic
def seed_users(centers: dict[str, Center]) -> list[User]:
    """Create the demo users that do not exist yet (an existing one is left as it is: an
    administrator may have changed it). Two queries when they all exist."""
    existing = set(User.objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
    missing = [name for name in DEMO_USERS if name not in existing]
    if missing:
        departments = {
            (d.center_id, d.kind): d
            for d in Department.objects.filter(center__in=list(centers.values())).order_by("pk")
        }
        new = []
        for username in missing:
            spec = DEMO_USERS[username]
            center = centers[spec.center]
            is_admin = Role.ADMIN in spec.roles
            new.append(
                User(
                    username=username,
                    full_name=spec.full_name,
                    center=center,
                    department=departments.get((center.pk, spec.department))
                    if spec.department
                    else None,
                    password=demo_password_hash(),
                    is_staff=is_admin,
                    is_superuser=is_admin,
                )
            )
        created = User.objects.bulk_create(new)
        UserRole.objects.bulk_create(
            [UserRole(user=u, role=r) for u in created for r in DEMO_USERS[u.username].roles]
        )
    return list(User.objects.filter(username__in=DEMO_USERS).order_by("pk"))
