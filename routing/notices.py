"""Written notices in the regulation's form (信访工作条例 Arts 22-23, 32, 34), in Chinese, as text and
as PDF. The Chinese wording is the legal form itself, not UI text, so it is not translated."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from django.utils import timezone

from petitions.models import Case

from .models import NoticeKind, WrittenNotice

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


def render_notice(
    *, case: Case, kind: str, context: dict[str, str], at: datetime
) -> tuple[str, str]:
    petitioner = case.main_petitioner
    values = {
        "number": case.number,
        "registered": f"{timezone.localtime(case.registered_at):%Y年%m月%d日}",
        "today": f"{timezone.localtime(at):%Y年%m月%d日}",
        **context,
    }
    body = BODIES[NoticeKind(kind)].format(**values)
    text = f"{petitioner.name}：\n\n　　{body}\n\n{case.center.name}\n{timezone.localtime(at):%Y年%m月%d日}"
    return TITLES[NoticeKind(kind)], text


def notice_pdf(notice: WrittenNotice) -> bytes:
    """A4 PDF with a CJK font that PDF readers provide (STSong-Light), so no font file is needed."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=30 * mm,
        title=notice.title,
        author=notice.issuer,
    )
    title = ParagraphStyle("title", fontName="STSong-Light", fontSize=20, leading=28, alignment=1)
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=13, leading=22, wordWrap="CJK")
    story = [
        Paragraph(notice.title, title),
        Spacer(1, 4 * mm),
        Paragraph(f"编号：{notice.number}", ParagraphStyle("no", parent=body, alignment=1)),
        Spacer(1, 8 * mm),
    ]
    for line in notice.body.split("\n"):
        story.append(Paragraph(_escape(line) or "&nbsp;", body))
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
