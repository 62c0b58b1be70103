"""The written notice of a refused judicial aid application (不予司法救助告知书), as text and PDF.

The Chinese wording is the document's form, addressed to the applicant, not UI text, so it is not
translated (as routing.notices). It says why, and that the refusal takes nothing from the
applicant's other rights: aid is never conditional on giving up a petition or a review, and the
notice must not read as if it were (a test checks its words)."""

from __future__ import annotations

from django.utils import timezone

from core.pdf import IDEOGRAPHIC_SPACE, build_document, split_signature
from routing.notices import department_issuer

from .models import AidApplication

INDENT = IDEOGRAPHIC_SPACE * 2
TITLE = "不予司法救助告知书"


def notice_number(application: AidApplication) -> str:
    return f"{application.case.number}-JZ{application.pk}"


def refusal_notice(application: AidApplication) -> tuple[str, str, str]:
    """(title, text, issuer) of the notice of a refused application."""
    issuer = department_issuer(application.department)
    at = application.approved_at or application.decided_at or timezone.now()
    applied = f"{timezone.localtime(application.applied_at):%Y年%m月%d日}"
    paragraphs = [
        f"你于{applied}就信访事项（编号：{application.case.number}）提出的司法救助申请"
        f"（申请金额{application.requested_amount:,.2f}元），经{application.department.name}审查，"
        "决定不予救助。",
        f"理由：{application.reasons.strip()}",
        "如对本决定有异议，可以向本机关提出。本决定不影响你依法反映诉求、申请复查复核"
        "或者通过其他法律途径维护自身合法权益。",
    ]
    body = "\n".join(f"{INDENT}{p}" for p in paragraphs)
    text = f"{application.applicant.name}：\n\n{body}\n\n{issuer}\n{timezone.localtime(at):%Y年%m月%d日}"
    return TITLE, text, issuer


def refusal_notice_pdf(application: AidApplication) -> bytes:
    title, text, issuer = refusal_notice(application)
    lines, signature = split_signature(text, issuer)
    return build_document(
        title=title,
        number=notice_number(application),
        lines=lines,
        author=issuer,
        signature=signature,
    )
