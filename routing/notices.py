"""Written notices in the regulation's form (信访工作条例 Arts 22-23, 32, 34), in Chinese, as text and
as PDF. The Chinese wording is the legal form itself, not UI text, so it is not translated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.utils import timezone

from core.models import Department
from core.pdf import IDEOGRAPHIC_SPACE, build_document, split_signature
from petitions.models import Case

from .models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole, NoticeKind, WrittenNotice

INDENT = IDEOGRAPHIC_SPACE * 2

TITLES = {
    NoticeKind.NOT_ACCEPTED: "不予受理告知书",
    NoticeKind.REFERRAL: "告知书（向有权机关提出）",
    NoticeKind.LEGAL_PROCEDURE: "导入法律程序告知书",
    NoticeKind.ACCEPTANCE: "信访事项受理告知书",
    NoticeKind.TRANSFER: "信访事项转送告知书",
    NoticeKind.EXTENSION: "信访事项延期办理告知书",
}

BODIES = {
    NoticeKind.NOT_ACCEPTED: (
        "你（你们）于{registered}提出的信访事项（编号：{number}），经审查，因{reason}，"
        "根据《信访工作条例》第二十二条的规定，本机关不予受理。\n"
        "如对本告知有异议，可依法向有权机关反映。"
    ),
    NoticeKind.REFERRAL: (
        "你（你们）于{registered}提出的信访事项（编号：{number}），经审查，属于{organ}的职权范围，"
        "根据《信访工作条例》第二十二条的规定，请你（你们）向{organ}提出。\n理由：{reason}"
    ),
    NoticeKind.LEGAL_PROCEDURE: (
        "你（你们）于{registered}提出的信访事项（编号：{number}），属于应当通过诉讼、仲裁、行政复议等"
        "法定途径解决的事项。根据《信访工作条例》第二十二条、第三十一条的规定，已导入{organ}{procedure}"
        "（案号：{legal_case_number}），依照该程序的规定和期限办理。"
    ),
    NoticeKind.ACCEPTANCE: (
        "你（你们）于{registered}提出的信访事项（编号：{number}），{department}已于{today}受理。"
        "根据《信访工作条例》第三十四条的规定，将自受理之日起六十日内办结，并书面答复你（你们）；"
        "情况复杂的，经批准可以适当延长办理期限，但延长期限不得超过三十日，并将延期理由告知你（你们）。"
    ),
    NoticeKind.TRANSFER: (
        "你（你们）于{registered}提出的信访事项（编号：{number}），根据属地管理、分级负责的原则，"
        "已由{from}转送{to}办理（《信访工作条例》第二十二条、第二十三条）。\n转送理由：{reason}"
    ),
    NoticeKind.EXTENSION: (
        "你（你们）提出的信访事项（编号：{number}），因{reason}，经批准，办理期限延长{days}日，"
        "至{due}（《信访工作条例》第三十四条）。"
    ),
}


# Who issues and signs each notice (DOMAIN.md §4; 信访工作条例 Arts 22-23, 32, 34):
# - the screening decisions (not accepted, refer out, legal procedure) are the center's, which
#   screened the case;
# - a transfer is the SENDING center's notice: it tells the petitioner where the matter went
#   (the receiving center is named in the text, never as the issuer);
# - acceptance and extension are the handling organ's (the lead department): Art 23 has the organ
#   that received the matter tell the petitioner, Art 34 has it tell the reason for an extension.
# Kinds added later (a written reply is the lead department's as well) join DEPARTMENT_KINDS.
DEPARTMENT_KINDS: set[str] = {NoticeKind.ACCEPTANCE, NoticeKind.EXTENSION}


def department_issuer(department: Department) -> str:
    """How a department signs: its name with its center (department names repeat per center)."""
    return f"{department.name}（{department.center.name}）"


def lead_department(case: Case) -> Department | None:
    lead = (
        Assignment.objects.filter(
            case=case, role=AssignmentRole.LEAD, state__in=ACTIVE_ASSIGNMENT_STATES
        )
        .select_related("department__center")
        .order_by("-assigned_at", "-id")
        .first()
    )
    return lead.department if lead is not None else None


def notice_issuer(*, case: Case, kind: str, context: Mapping[str, str]) -> str:
    if kind == NoticeKind.TRANSFER:
        # Written after the case moved: the case's center is already the receiver.
        return context["from"]
    if kind in DEPARTMENT_KINDS:
        department = lead_department(case)
        if department is not None:
            return department_issuer(department)
    return case.center.name


def addressee(case: Case) -> str:
    """The petitioner the notice is addressed to; a group visit names its headcount."""
    name = case.main_petitioner.name
    if case.is_group and case.headcount > 1:
        return f"{name}等{case.headcount}人"
    return name


def render_notice(
    *, case: Case, kind: str, context: dict[str, str], at: datetime
) -> tuple[str, str, str]:
    """(title, text, issuer) of a notice. The text is addressed to the petitioner, each paragraph
    indented the Chinese way (two ideographic spaces), and ends with the issuer and the date."""
    values = {
        "number": case.number,
        "registered": f"{timezone.localtime(case.registered_at):%Y年%m月%d日}",
        "today": f"{timezone.localtime(at):%Y年%m月%d日}",
        **context,
    }
    body = BODIES[NoticeKind(kind)].format(**values)
    paragraphs = "\n".join(f"{INDENT}{p.strip()}" for p in body.split("\n") if p.strip())
    issuer = notice_issuer(case=case, kind=kind, context=context)
    text = f"{addressee(case)}：\n\n{paragraphs}\n\n{issuer}\n{timezone.localtime(at):%Y年%m月%d日}"
    return TITLES[NoticeKind(kind)], text, issuer


def notice_pdf(notice: WrittenNotice) -> bytes:
    """A4 PDF with an embedded CJK TrueType font (core.pdf), the signature right-aligned."""
    lines, signature = split_signature(notice.body, notice.issuer)
    return build_document(
        title=notice.title,
        number=notice.number,
        lines=lines,
        author=notice.issuer,
        signature=signature,
    )
