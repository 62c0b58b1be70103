"""The tour's report as an A4 PDF (embedded CJK font, core.pdf): the tour, its figures, one row
per carried case (found, decided, instructed, due, the order's state and the case's state now)
and the overall findings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _

from clocks.deadlines import CHINA_TZ
from core.models import User
from core.pdf import escape, register_cjk_font

from .models import Tour
from .selectors_tours import TourReport


def figures_line(report: TourReport) -> str:
    return _(
        "%(carried)d cases carried, %(receptions)d receptions, %(meetings)d meetings, "
        "%(instructions)d instructions, %(met)d met."
    ) % {
        "carried": report.carried,
        "receptions": report.receptions,
        "meetings": report.meetings,
        "instructions": report.instructions,
        "met": report.instructions_met,
    }


def report_document(
    tour: Tour,
    report: TourReport,
    members: Sequence[User],
    *,
    now: datetime,
    author: str = "",
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    buffer = BytesIO()
    title = _("Report of the tour “%(title)s”") % {"title": tour.title}
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=15 * mm,
        title=title,
        author=author,
        creator="joint petition reception center",
    )
    title_style = ParagraphStyle(
        "title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER
    )
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    muted = ParagraphStyle("muted", parent=body, fontSize=9, leading=13, textColor=colors.grey)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    local = now.astimezone(CHINA_TZ)
    team = "、".join(str(u.full_name or u.username) for u in members) or "—"
    story: list[Any] = [
        Paragraph(escape(title), title_style),
        Spacer(1, 2 * mm),
        Paragraph(
            escape(
                _("%(center)s to %(target)s · %(start)s to %(end)s · as of %(today)s")
                % {
                    "center": tour.center.name,
                    "target": tour.target_center.name,
                    "start": tour.starts_on.isoformat(),
                    "end": tour.ends_on.isoformat(),
                    "today": local.strftime("%Y-%m-%d %H:%M"),
                }
            ),
            ParagraphStyle("sub", parent=muted, alignment=TA_CENTER),
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            escape(
                _("Leader: %(leader)s. Members: %(team)s.")
                % {"leader": tour.leader.full_name or tour.leader.username, "team": team}
            ),
            body,
        ),
        Paragraph(escape(figures_line(report)), body),
        Spacer(1, 3 * mm),
    ]
    header = [
        _("Case number"),
        _("Petitioner"),
        _("Receptions"),
        _("found"),
        _("decided"),
        _("instruction"),
        _("instruction due"),
        _("Supervision order"),
        _("Case state now"),
    ]
    data = [[Paragraph(escape(h), cell) for h in header]]
    for r in report.rows:
        tc = r.carried
        order = tc.order
        line = [
            r.case.number,
            r.case.main_petitioner.name,
            str(r.receptions),
            tc.findings or "—",
            tc.decision or "—",
            tc.instruction or "—",
            tc.instruction_due.isoformat() if tc.instruction_due else "—",
            f"{order.number} {r.order_state_label}" if order is not None else "—",
            str(r.case.get_state_display()),
        ]
        data.append([Paragraph(escape(text), cell) for text in line])
    widths = [30 * mm, 20 * mm, 14 * mm, 44 * mm, 40 * mm, 44 * mm, 20 * mm, 30 * mm, 20 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    story += [
        Spacer(1, 5 * mm),
        Paragraph(escape(_("overall findings")), body),
        Paragraph(escape(tour.summary or _("Not reported yet.")), body),
    ]
    doc.build(story)
    return buffer.getvalue()
