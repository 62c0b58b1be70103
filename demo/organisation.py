"""Demo organisation and users (``manage.py seed_demo``). Idempotent: running it again changes nothing."""

from __future__ import annotations

from django.db import transaction

from core.models import Center, CenterLevel, Department, DepartmentKind, User
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
# Demo users work at the city center: they see it and (read-only) its two county centers.
DEMO_CENTER = "130100"
# username → (full name, roles, department kind or None)
DEMO_USERS: dict[str, tuple[str, list[str], str | None]] = {
    "reception": ("接待员 王芳", [Role.RECEPTION], None),
    "triage": ("审查员 李强", [Role.TRIAGE], None),
    "police": ("公安承办人 张伟", [Role.OFFICER], DepartmentKind.POLICE),
    "procuratorate": ("检察承办人 刘洋", [Role.OFFICER], DepartmentKind.PROCURATORATE),
    "court": ("法院承办人 陈静", [Role.OFFICER], DepartmentKind.COURT),
    "justice": ("司法承办人 杨军", [Role.OFFICER], DepartmentKind.JUSTICE),
    "head": ("公安负责人 赵磊", [Role.HEAD], DepartmentKind.POLICE),
    "supervisor": ("督办员 孙丽", [Role.SUPERVISOR], None),
    "leader": ("领导 周明", [Role.LEADER], None),
    "archivist": ("归档员 吴敏", [Role.ARCHIVIST], None),
    "admin": ("管理员 郑浩", [Role.ADMIN], None),
}


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
    center = centers[DEMO_CENTER]
    users = []
    for username, (full_name, roles, dept_kind) in DEMO_USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            department = (
                Department.objects.filter(center=center, kind=dept_kind).first()
                if dept_kind
                else None
            )
            user = User(
                username=username, full_name=full_name, center=center, department=department
            )
            user.is_staff = Role.ADMIN in roles
            user.is_superuser = Role.ADMIN in roles
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.set_roles(roles)
        users.append(user)
    return users
