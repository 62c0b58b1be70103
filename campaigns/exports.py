"""The campaign's files: its ledger as Excel (the 积案台账, one row per matter) and its summary
report as PDF (first paragraph as the seed's: "上级交办积案 12 起，已化解 8 起，正在处理 4 起，
息诉率 67%。", then the figures by center, department, leader and week).

Personal numbers are the stored masked copies only. Text cells that a spreadsheet would read as
a formula are written as text (reports.ledger.is_formula_like, OWASP "CSV injection").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from clocks.deadlines import CHINA_TZ
from core.pdf import escape, register_cjk_font
from reports.ledger import is_formula_like

from .models import Campaign

if TYPE_CHECKING:
    from .views import MatterRow


def _local(value: datetime | None) -> datetime | None:
    # Excel has no time zones: Beijing wall time without tzinfo
    return value.astimezone(CHINA_TZ).replace(tzinfo=None) if value else None


def percent(rate: float | None) -> str:
    """0.6667 → "67%"; no rate (nothing handed down) → "—"."""
    if rate is None:
        return "—"
    return f"{round(rate * 100)}%"


def ledger_columns() -> list[tuple[str, int]]:
    """(header, width) of each column, in order."""
    return [
        (_("Case number"), 20),
        (_("Petitioner"), 10),
        (_("ID number"), 22),
        (_("Phone"), 14),
        (_("Handed down to"), 22),
        (_("Responsible leader"), 12),
        (_("Handler"), 12),
        (_("Handed down at"), 18),
        (_("Due on"), 12),
        (_("Signed for at"), 18),
        (_("State"), 12),
        (_("Target result"), 30),
        (_("The matter"), 40),
        (_("Petitioning since"), 12),
        (_("What has been done"), 40),
        (_("Obstacle"), 30),
        (_("Next step"), 30),
        (_("How it was resolved"), 30),
        (_("Resolved at"), 18),
        (_("Last progress"), 18),
    ]


def ledger_values(row: MatterRow) -> list[Any]:
    m = row.matter
    person = m.case.main_petitioner
    receiver = (
        m.center.name
        if m.center_id
        else (f"{m.department.center.name} · {m.department.name}" if m.department_id else "")
    )
    return [
        m.case.number,
        person.name if person else "",
        person.id_number_masked if person else "",
        person.phone_masked if person else "",
        receiver,
        str(m.leader) if m.leader_id else "",
        str(m.handler) if m.handler_id else "",
        _local(m.handed_down_at),
        m.due_on,
        _local(m.signed_at),
        row.state_label,
        m.target_result,
        m.summary,
        m.since,
        m.work_done,
        m.obstacle,
        m.next_step,
        m.resolution,
        _local(m.resolved_at),
        _local(m.last_progress_at),
    ]


def ledger_workbook(handle: IO[bytes], campaign: Campaign, rows: Sequence[MatterRow]) -> None:
    """The ledger as .xlsx (openpyxl's write-only mode, as reports' ledgers)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Backlog ledger"))[:31])
    columns = ledger_columns()
    for i, (_header, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A3"
    title = WriteOnlyCell(sheet, value=as_text_cell(campaign.name))
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    center = Alignment(horizontal="center", vertical="center")
    header = []
    for label, _width in columns:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font, cell.fill, cell.alignment = bold, fill, center
        header.append(cell)
    sheet.append(header)
    for row in rows:
        values: list[Any] = []
        for value in ledger_values(row):
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                values.append(cell)
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                values.append(cell)
            elif is_formula_like(value):
                # openpyxl makes any string starting with "=" a formula: a string cell with
                # Excel's quote prefix stays text, as typed (reports.ledger.XlsxWriter.text_cell)
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                cell.quotePrefix = True
                values.append(cell)
            else:
                values.append(value)
        sheet.append(values)
    workbook.save(handle)  # type: ignore[arg-type]


def as_text_cell(value: str) -> str:
    """A title line: a leading formula trigger is dropped rather than kept (it names nothing)."""
    return value.lstrip("=+-@\t\r") if is_formula_like(value) else value


# --- the summary report ---------------------------------------------------------------------------


def first_paragraph(summary: dict[str, Any]) -> str:
    """ "上级交办积案 12 起，已化解 8 起，正在处理 4 起，息诉率 67%。" from campaign_summary:
    in hand counts every matter still being worked (in hand or stalled)."""
    handed = int(summary.get("handed_down") or 0)
    if not handed:
        return _("No backlog matter has been handed down yet.")
    text = _(
        "Backlog matters handed down from above: %(handed)s; resolved: %(resolved)s; "
        "in hand: %(in_hand)s; cessation rate: %(cessation)s."
    ) % {
        "handed": handed,
        "resolved": int(summary.get("resolved") or 0),
        "in_hand": int(summary.get("in_hand") or 0) + int(summary.get("stalled") or 0),
        "cessation": percent(summary.get("cessation_rate")),
    }
    terminated = int(summary.get("terminated") or 0)
    if terminated:
        text += _("Lawfully terminated: %(n)s.") % {"n": terminated}
    return text


def rates_paragraph(summary: dict[str, Any]) -> str:
    targets = summary.get("targets") or {}

    def against(key: str) -> str:
        target = targets.get(key)
        value = percent(summary.get(key))
        if target is None:
            return value
        return _("%(value)s (target %(target)s)") % {
            "value": value,
            "target": percent(float(target)),
        }

    return _(
        "Resolution rate %(resolution)s, cessation rate %(cessation)s; stalled: %(stalled)s, "
        "ceased petitioning: %(ceased)s."
    ) % {
        "resolution": against("resolution_rate"),
        "cessation": against("cessation_rate"),
        "stalled": int(summary.get("stalled") or 0),
        "ceased": int(summary.get("ceased") or 0),
    }


def breakdown_table(rows: Sequence[dict[str, Any]], name_header: str) -> list[list[str]]:
    head = [
        name_header,
        _("Handed down"),
        _("Resolved"),
        _("In hand"),
        _("Stalled"),
        _("Ceased petitioning"),
        _("Resolution rate"),
        _("Cessation rate"),
    ]
    body = [
        [
            str(r.get("name") or "—"),
            *(str(int(r.get(k) or 0)) for k in ("handed_down", "resolved", "in_hand", "stalled")),
            str(int(r.get("ceased") or 0)),
            percent(r.get("resolution_rate")),
            percent(r.get("cessation_rate")),
        ]
        for r in rows
    ]
    return [head, *body]


def summary_document(
    campaign: Campaign, summary: dict[str, Any], *, now: datetime, author: str = ""
) -> bytes:
    """A4 PDF: title, the campaign's period, the seed-like first paragraph, the rates against
    the targets, then one table per breakdown (embedded CJK font, core.pdf)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    buffer = BytesIO()
    title = _("%(name)s: summary report") % {"name": campaign.name}
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=25 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=author,
        creator="joint petition reception center",
    )
    size = 12
    title_style = ParagraphStyle(
        "title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER
    )
    body = ParagraphStyle("body", fontName=font, fontSize=size, leading=20, wordWrap="CJK")
    indented = ParagraphStyle("indented", parent=body, firstLineIndent=2 * size)
    heading = ParagraphStyle("heading", parent=body, fontSize=13, leading=22, spaceBefore=6)
    muted = ParagraphStyle("muted", parent=body, fontSize=10, leading=15, textColor=colors.grey)
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    local = now.astimezone(CHINA_TZ)
    story: list[Any] = [
        Paragraph(escape(title), title_style),
        Spacer(1, 3 * mm),
        Paragraph(
            escape(
                _("%(center)s · %(start)s to %(end)s · as of %(today)s")
                % {
                    "center": campaign.center.name,
                    "start": campaign.starts_on.isoformat(),
                    "end": campaign.ends_on.isoformat(),
                    "today": local.strftime("%Y-%m-%d %H:%M"),
                }
            ),
            ParagraphStyle("sub", parent=muted, alignment=TA_CENTER),
        ),
        Spacer(1, 6 * mm),
        Paragraph(escape(first_paragraph(summary)), indented),
        Paragraph(escape(rates_paragraph(summary)), indented),
    ]
    for key, name_header, heading_text in (
        ("by_center", _("Center"), _("By receiving center")),
        ("by_department", _("Department"), _("By receiving department")),
        ("by_leader", _("Leader"), _("By responsible leader")),
        ("by_week", _("Week"), _("By week handed down")),
    ):
        rows = summary.get(key) or []
        if not rows:
            continue
        story += [Spacer(1, 4 * mm), Paragraph(escape(heading_text), heading)]
        data = [
            [Paragraph(escape(text), cell) for text in line]
            for line in breakdown_table(rows, name_header)
        ]
        table = Table(data, colWidths=[44 * mm] + [18 * mm] * 7, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story.append(table)
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            escape(
                _(
                    "Rates are computed, never typed: resolution rate = resolved / handed down; "
                    "cessation rate = ceased petitioning / handed down, a matter having ceased "
                    "when it was resolved and no visit or new case of the person came within "
                    "%(days)s days after."
                )
                % {"days": campaign.observation_days}
            ),
            muted,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
