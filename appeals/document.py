"""The documents of appeals, as text for the print pages and the PDFs (core.pdf):

- the written answer of a review or re-review (复查意见书 / 复核意见书, Arts 35-36), the
  petitioner's document;
- the internal record of a case's review, re-review and lawful termination (the staff's own file
  of who recorded, decided, proposed and approved what, and when), for the case file and for
  sending upward.

The Chinese wording of the answer is the legal form itself, not UI text, so it is not translated
(as closure.document and routing.notices). The record is an internal table in the same words.
Each document is composed once here as plain lines; the print page shows them escaped by the
template engine and the PDF sets them with the embedded CJK font, so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from core.pdf import Signature, build_document
from petitions.models import Case

from .models import Finality, ReviewKind, ReviewRequest, Termination
from .services import organ_above

INDENT = "\u3000\u3000"  # the Chinese paragraph indent, which core.pdf.build_document reads


@dataclass(frozen=True)
class OfficialText:
    title: str
    number: str
    author: str
    lines: list[str]
    signature: Signature | None = None

    @property
    def body(self) -> str:
        return "\n".join(self.lines)


def _day(value: object) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)  # type: ignore[arg-type]
    return f"{local.year}年{local.month}月{local.day}日"


def answer_title(review: ReviewRequest) -> str:
    return "信访事项复查意见书" if review.kind == ReviewKind.REVIEW else "信访事项复核意见书"


def answer_document(review: ReviewRequest) -> OfficialText:
    """The written answer of a decided review or re-review, as issued; for a re-review forwarded
    upward, the notice of the outcome received from the organ above."""
    case = review.case
    word = "复查" if review.kind == ReviewKind.REVIEW else "复核"
    center = review.reviewing_center
    if review.kind == ReviewKind.REVIEW:
        # Art 36: the re-review is by the organ one level above the reviewing one, never this
        # one; above the top of the deployment the request is forwarded (appeals.services).
        if center.parent_id and center.parent:
            route = (
                f"{INDENT}如对本复查意见不服，可以自收到本意见书之日起三十日内，"
                f"向{center.parent.name}请求复核（《信访工作条例》第三十六条）。"
            )
        else:
            above = organ_above(center)
            route = (
                f"{INDENT}如对本复查意见不服，可以自收到本意见书之日起三十日内，向{above}请求复核；"
                f"复核请求也可以向本机关提出，由本机关转报{above}（《信访工作条例》第三十六条）。"
            )
    else:
        route = (
            f"{INDENT}信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的，各级党委和政府"
            "信访部门和其他机关、单位不再受理（《信访工作条例》第三十六条）。"
        )
    if review.forwarded_to:
        outcome = review.outcome_date
        decided_on = f"{outcome.year}年{outcome.month}月{outcome.day}日" if outcome else ""
        received = (
            f"{INDENT}你于{_day(review.requested_at)}就信访事项（案件编号{case.number}）提出的"
            f"复核请求，已由本机关转报{review.forwarded_to}。{review.forwarded_to}于{decided_on}"
            f"作出复核意见（文号{review.document_number}），现将意见告知如下："
        )
    else:
        received = (
            f"{INDENT}你于{_day(review.requested_at)}就信访事项（案件编号{case.number}）提出的"
            f"{word}请求，本机关已经收到。经{word}，意见如下："
        )
    lines = [
        f"{case.main_petitioner.name}：",
        "",
        received,
        "",
        f"{INDENT}{word}结论：{review.get_decision_display()}。",
        "",
        *[f"{INDENT}{p.strip()}" for p in review.answer.splitlines() if p.strip()],
        "",
        route,
    ]
    return OfficialText(
        title=answer_title(review),
        number=review.document_number or "",
        author=center.name,
        lines=lines,
        signature=Signature(issuer=center.name, date=_day(review.decided_at)),
    )


RECORD_TITLE = "信访事项复查、复核及依法终结工作记录"


def record_document(
    case: Case,
    *,
    reviews: Sequence[ReviewRequest],
    terminations: Sequence[Termination],
    finality: Finality | None,
    printed_by: str,
) -> OfficialText:
    """The staff's internal record of the case's reviews, re-reviews and termination proposals:
    each step with its date, its person and its text, in order."""
    lines = [
        f"案件编号：{case.number}",
        f"办理中心：{case.center.name}",
        f"案件状态：{case.get_state_display()}",
        "",
    ]
    if not reviews:
        lines.append("复查、复核：无")
    for n, r in enumerate(reviews, start=1):
        lines += [
            f"{n}. {r.get_kind_display()}",
            f"{INDENT}请求：{_day(r.requested_at)}，{r.get_channel_display()}，"
            f"登记人{r.recorded_by}；复查（复核）机关："
            + (
                f"{r.forwarded_to}（由{r.reviewing_center.name}转报）"
                if r.forwarded_to
                else r.reviewing_center.name
            )
            + f"；办理期限：{_day(r.decision_due_at)}",
            f"{INDENT}理由：{' '.join(r.reason.split())}",
        ]
        if r.decision and r.forwarded_to:
            lines += [
                f"{INDENT}结论：{r.get_decision_display()}，{r.forwarded_to}"
                f"{r.outcome_date:%Y年%m月%d日}作出，文号{r.document_number}；"
                f"{_day(r.decided_at)}由{r.decided_by}登记",
                f"{INDENT}意见：{' '.join(r.answer.split())}",
            ]
        elif r.decision:
            lines += [
                f"{INDENT}结论：{r.get_decision_display()}，{_day(r.decided_at)}，"
                f"决定人{r.decided_by}；意见书编号{r.document_number}",
                f"{INDENT}意见：{' '.join(r.answer.split())}",
            ]
        else:
            lines.append(f"{INDENT}尚未作出意见")
    lines.append("")
    if not terminations:
        lines.append("依法终结：未提请")
    for n, t in enumerate(terminations, start=1):
        lines += [
            f"依法终结提请{n}：{_day(t.proposed_at)}，{t.department.name}，提请人{t.proposed_by}；"
            f"状态：{t.get_state_display()}",
            f"{INDENT}理由：{' '.join(t.grounds.split())}",
        ]
        if t.center_reviewed_at:
            opinion = f"，意见：{t.center_opinion}" if t.center_opinion else ""
            lines.append(
                f"{INDENT}中心审核：{_day(t.center_reviewed_at)}，{t.center_reviewed_by}{opinion}"
            )
        if t.approved_at:
            lines.append(
                f"{INDENT}省级审批：{t.approving_body}，批准日期{t.approval_date:%Y年%m月%d日}，"
                f"{t.approved_by}"
            )
        if t.rejection_reason:
            lines.append(
                f"{INDENT}不予同意：{_day(t.rejected_at)}，{t.rejected_by}，{t.rejection_reason}"
            )
        lines.append(f"{INDENT}负责后续帮扶的单位：{t.support_unit.name}")
    if finality is not None:
        lines += ["", f"不再受理：{finality.get_reason_display()}（{_day(finality.final_at)}）"]
    lines += ["", f"打印人：{printed_by}，{_day(timezone.now())}"]
    return OfficialText(title=RECORD_TITLE, number="", author=case.center.name, lines=lines)


def to_pdf(document: OfficialText) -> bytes:
    return build_document(
        title=document.title,
        number=document.number,
        lines=document.lines,
        author=document.author,
        signature=document.signature,
    )
