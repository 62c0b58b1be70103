"""Helpers for tests and demos: the staff of a center, and a case brought through the real services
(register → assign → sign → accept → reply drafted, approved, delivered) so that review tests start
from a written reply delivered on a given day, with its review window open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import time_machine

from core.models import Center, Department, DepartmentKind, User
from core.roles import Role
from petitions.models import Case, Petitioner

DEFAULT_PASSWORD = "Test-pass-2026"


@dataclass
class Staff:
    center: Center
    department: Department
    reception: User
    triage: User
    officer: User
    head: User
    supervisor: User
    leader: User


def _user(
    username: str,
    center: Center,
    roles: list[str],
    department: Department | None,
    password: str,
    full_name: str,
) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username,
            password=password,
            center=center,
            department=department,
            full_name=full_name,
        )
    user.set_roles(roles)
    return user


def staff_for(center: Center, *, password: str = DEFAULT_PASSWORD) -> Staff:
    """The center's desk, triage, a police-department officer and head, a supervisor and a leader
    (usernames ``<region code>-<role>``; made once, found again on later calls)."""
    department = Department.objects.filter(center=center, kind=DepartmentKind.POLICE).first()
    if department is None:
        department = Department.objects.create(
            center=center, kind=DepartmentKind.POLICE, name=f"{center.name}公安"
        )
    code = center.region_code

    def make(role: str, roles: list[str], dept: Department | None, name: str) -> User:
        return _user(f"{code}-{role}", center, roles, dept, password, f"{center.name}{name}")

    return Staff(
        center=center,
        department=department,
        reception=make("reception", [Role.RECEPTION], None, "接待员"),
        triage=make("triage", [Role.TRIAGE], None, "分流员"),
        officer=make("officer", [Role.OFFICER], department, "承办人"),
        head=make("head", [Role.HEAD], department, "负责人"),
        supervisor=make("supervisor", [Role.SUPERVISOR], None, "督查员"),
        leader=make("leader", [Role.LEADER], None, "领导"),
    )


def delivered_case(
    staff: Staff,
    *,
    delivered_at: datetime,
    petitioner: Petitioner | None = None,
    **case_overrides: Any,
) -> Case:
    """A case of ``staff.center`` whose written reply was delivered at ``delivered_at`` (the steps
    before it run a few days earlier, under time_machine)."""
    from closure.services import ReplyText, approve_reply, deliver_reply, save_reply_draft
    from petitions.testing import make_petitioner, register
    from routing.services import (
        DepartmentDue,
        accept_assignment,
        assign_case,
        sign_for_assignment,
    )

    start = delivered_at - timedelta(days=10)
    with time_machine.travel(start, tick=True):
        petitioner = petitioner or make_petitioner(staff.reception)
        case = register(staff.reception, petitioner, **case_overrides).case
        (lead,) = assign_case(
            actor=staff.triage,
            case=case,
            lead=DepartmentDue(staff.department, start + timedelta(days=30)),
        )
        sign_for_assignment(actor=staff.officer, assignment=lead)
        accept_assignment(actor=staff.officer, assignment=lead)
        case.refresh_from_db()
        save_reply_draft(
            actor=staff.officer,
            case=case,
            text=ReplyText(
                decision="not_support",
                facts_reasons="经调查核实，原判决已依法执行完毕。",
                legal_basis="《中华人民共和国民事诉讼法》第二百三十六条",
            ),
            submit=True,
        )
        approve_reply(actor=staff.head, case=case)
    with time_machine.travel(delivered_at, tick=True):
        deliver_reply(actor=staff.officer, case=case, method="in_person", signed=True)
    case.refresh_from_db()
    return case
