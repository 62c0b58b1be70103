"""Extension points for the apps above reports (imports point down: reports never imports them).
An app registers its callables from its ``AppConfig.ready()``, as with petitions.hooks.

- Report sections add a card of figures to the reports page (reports.views.index), e.g.
  outreach: 下访, 约访, leader receptions, tours and judicial aid. A provider takes the page's
  ``ReportFilters`` (the viewer's scope is already in ``center_ids``: a provider reads nothing
  of the viewer, since the sections are cached by the filters for anyone who may ask for them)
  and returns a ``ReportSection`` or None. Each row carries its one-line definition, as the
  indicators do. Values are plain data (the cache pickles them); the markup is
  templates/reports/_sections.html. Keep a provider to a few grouped queries whatever the number
  of rows: the page's query count is tested.
- Ledger columns add per-case columns to the ledgers (reports.ledger: the page, the files, the
  export job). A column (``reports.ledger.Column``) carries ``annotation``: a factory of a query
  expression correlated on the case (``OuterRef("pk")``, e.g. a ``Subquery`` count or sum), so
  the ledger stays one query however many columns are chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .filters import ReportFilters
    from .ledger import Column


@dataclass(frozen=True)
class SectionRow:
    """One figure: ``value`` as computed (int, Decimal or None), ``display`` as shown."""

    code: str
    label: str
    value: Any
    display: str
    definition: str


@dataclass(frozen=True)
class SectionTableRow:
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class SectionTable:
    """A breakdown (by center, by department or organ): a header per cell column."""

    code: str
    caption: str
    label_header: str
    headers: tuple[str, ...]
    rows: tuple[SectionTableRow, ...]
    empty_text: str = ""


@dataclass(frozen=True)
class ReportSection:
    code: str
    title: str
    rows: tuple[SectionRow, ...]
    tables: tuple[SectionTable, ...] = ()
    note: str = ""  # what the figures do not follow (a filter they ignore), shown under them
    links: tuple[tuple[str, str], ...] = ()  # (label, URL): the section's own pages (its ledger)


ReportSectionProvider = Callable[["ReportFilters"], "ReportSection | None"]

_section_providers: list[ReportSectionProvider] = []
_ledger_columns: list[Column] = []


def register_report_section(provider: ReportSectionProvider) -> None:
    if provider not in _section_providers:
        _section_providers.append(provider)


def report_sections(filters: ReportFilters) -> list[ReportSection]:
    """The sections the registered providers give for these filters, in registration order."""
    sections = []
    for provider in _section_providers:
        section = provider(filters)
        if section is not None:
            sections.append(section)
    return sections


def register_ledger_columns(columns: Iterable[Column]) -> None:
    """Add columns after the built-in ones. A code already taken (built-in or registered) is a
    programming error: two columns would answer to one name in saved export jobs."""
    from .ledger import COLUMNS

    taken = {c.code for c in COLUMNS}
    for column in columns:
        if any(c is column for c in _ledger_columns):
            continue  # ready() run twice (tests): the same objects again
        if column.code in taken or any(c.code == column.code for c in _ledger_columns):
            raise ValueError(f"ledger column code {column.code!r} is taken")
        if column.annotation is None:
            raise ValueError(f"ledger column {column.code!r} needs an annotation factory")
        _ledger_columns.append(column)


def ledger_columns() -> Sequence[Column]:
    return tuple(_ledger_columns)
