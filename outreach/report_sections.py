"""Outreach in the reports (issue 20: "the reports page and the ledgers count 下访, 约访, leader
receptions and judicial aid").

- Two sections of the reports page (reports.hooks.register_report_section): 走访与接待 (下访,
  约访, visits received by leaders, 带案巡视) and 司法救助, each figure with its one-line
  definition, and tables by center and by department or organ. The figures are the parts'
  ``counts`` selectors (selectors_visits, selectors_tours, selectors_aid) over the report's
  centers (its scope, with or without subordinates) and its period (Beijing days,
  ``[from 00:00, to + 1 day 00:00)``): a constant number of grouped queries whatever the rows.
- Four ledger columns (reports.hooks.register_ledger_columns), per case and over the case's whole
  life: 下访次数, 约访次数 (cancelled ones left out), 领导接待次数 (visits received in person by
  a leader or department head) and 司法救助金额（已批准） (the final grants, paid or to pay). Each
  is a correlated subquery on the case, so the ledger stays one query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from core.models import Center, Department, DepartmentKind
from petitions.models import Visit
from reports.filters import ReportFilters
from reports.hooks import ReportSection, SectionRow, SectionTable, SectionTableRow
from reports.ledger import Column

from . import selectors_aid, selectors_tours, selectors_visits
from .models import AidApplication, Outreach, OutreachKind, OutreachState


def _case_filters_note(f: ReportFilters) -> str:
    # The report's case-level filters narrow the cases of the indicators; the parts' counts
    # selectors take centers and a period only, so the sections say they ignore the rest.
    if f.department is None and f.channel is None and not f.category_ids and f.law_related is None:
        return ""
    return _(
        "These figures count by center and period only: the department, channel, category and "
        "law-related filters do not apply to them."
    )


def _int(value: Any) -> str:
    return str(int(value or 0))


def _yuan(value: Decimal | None) -> str:
    return f"{value or Decimal('0'):,.2f}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _center_rows(
    by_center: Mapping[int, Mapping[str, Any]], keys: Sequence[str], fmt: Callable[[Any], str]
) -> tuple[SectionTableRow, ...]:
    """One row per center with figures, in the hierarchy's order (one query for the names)."""
    centers = Center.objects.filter(pk__in=list(by_center)).order_by("path", "pk")
    return tuple(
        SectionTableRow(c.name, tuple(fmt(by_center[c.pk][k]) for k in keys))
        for c in centers
        if any(by_center[c.pk][k] for k in keys)
    )


# --- 走访与接待 ------------------------------------------------------------------------------------

VISIT_FIGURES: tuple[tuple[str, Any, Any], ...] = (
    (
        "home_visits",
        pgettext_lazy("report figure", "Visits to petitioners (下访)"),
        gettext_lazy(
            "Visits to petitioners recorded on the cases held by the report's centers, counted "
            "by the day they took place."
        ),
    ),
    (
        "home_visits_by_leaders",
        pgettext_lazy("report figure", "Of them, by leaders"),
        gettext_lazy("Of those visits, the ones on which a leader or department head went."),
    ),
    (
        "appointments",
        pgettext_lazy("report figure", "Appointments (约访)"),
        gettext_lazy(
            "Appointments set for a time in the period on the cases held by the report's "
            "centers; cancelled ones are left out."
        ),
    ),
    (
        "appointments_kept",
        pgettext_lazy("report figure", "Appointments kept"),
        gettext_lazy("Of those appointments, the ones the petitioner came to."),
    ),
    (
        "appointments_missed",
        pgettext_lazy("report figure", "Appointments missed"),
        gettext_lazy("Of those appointments, the ones marked as missed."),
    ),
    (
        "leader_receptions",
        pgettext_lazy("report figure", "Visits received by leaders"),
        gettext_lazy(
            "Visits at the report's centers in the period received in person by a leader or a "
            "department head (reception days, kept appointments, tours), one per visit."
        ),
    ),
    (
        "leader_receptions_by_leaders",
        pgettext_lazy("report figure", "Of them, by the center's leaders"),
        gettext_lazy("Of those visits, the ones received by a user with the leader role."),
    ),
    (
        "leader_receptions_by_heads",
        pgettext_lazy("report figure", "Of them, by heads of organs in person"),
        gettext_lazy(
            "Of those visits, the ones received by the head of an organ (a department head "
            "without the leader role) in person."
        ),
    ),
)

TOUR_FIGURES: tuple[tuple[str, Any, Any], ...] = (
    (
        "tours",
        pgettext_lazy("report figure", "Tours carrying cases (带案巡视)"),
        gettext_lazy("Tours of the report's centers (the centers visited) starting in the period."),
    ),
    (
        "instructions",
        pgettext_lazy("report figure", "Instructions left by tours"),
        gettext_lazy(
            "Instructions issued in the period as supervision orders on the carried cases of "
            "tours of the report's centers."
        ),
    ),
    (
        "instructions_met",
        pgettext_lazy("report figure", "Instructions carried out"),
        gettext_lazy("Of those instructions, the ones whose order was answered or closed by now."),
    ),
)

# The breakdown tables' columns (the tours have no breakdown: their selector counts a scope).
VISIT_TABLE_KEYS = (
    "home_visits",
    "home_visits_by_leaders",
    "appointments",
    "appointments_kept",
    "appointments_missed",
    "leader_receptions",
)


def _visit_headers() -> tuple[str, ...]:
    labels = {code: label for code, label, _definition in VISIT_FIGURES}
    return tuple(str(labels[k]) for k in VISIT_TABLE_KEYS)


def visits_section(f: ReportFilters) -> ReportSection:
    visits = selectors_visits.counts(f.center_ids, f.since, f.until)
    tours = selectors_tours.counts(f.center_ids, f.since, f.until)
    total = visits["total"]
    rows = [
        SectionRow(code, str(label), total[code], _int(total[code]), str(definition))
        for code, label, definition in VISIT_FIGURES
    ] + [
        SectionRow(code, str(label), tours[code], _int(tours[code]), str(definition))
        for code, label, definition in TOUR_FIGURES
    ]
    by_department = visits["by_department"]
    departments = Department.objects.filter(pk__in=list(by_department)).select_related("center")
    department_rows = tuple(
        SectionTableRow(
            f"{d.center.name} · {d.name}",
            tuple(_int(by_department[d.pk][k]) for k in VISIT_TABLE_KEYS),
        )
        for d in sorted(departments, key=lambda d: (d.center.path, d.pk))
        if any(by_department[d.pk][k] for k in VISIT_TABLE_KEYS)
    )
    return ReportSection(
        code="outreach_visits",
        title=pgettext("report section", "Visits and receptions"),
        rows=tuple(rows),
        tables=(
            SectionTable(
                code="by_center",
                caption=_("Visits and receptions by center"),
                label_header=_("Center"),
                headers=_visit_headers(),
                rows=_center_rows(visits["by_center"], VISIT_TABLE_KEYS, _int),
            ),
            SectionTable(
                code="by_department",
                caption=_(
                    "Visits and receptions by department (visits and appointments under the "
                    "case's lead department, receptions under the receiving head's department)"
                ),
                label_header=_("Department"),
                headers=_visit_headers(),
                rows=department_rows,
            ),
        ),
        note=_case_filters_note(f),
        links=((_("Tours carrying cases"), reverse("outreach:tours")),),
    )


# --- 司法救助 ----------------------------------------------------------------------------------------

AID_FIGURES: tuple[tuple[str, Any, Any, Callable[[Any], str]], ...] = (
    (
        "applications",
        pgettext_lazy("report figure", "Aid applications"),
        gettext_lazy(
            "Judicial aid applications made in the period on the cases held by the report's "
            "centers."
        ),
        _int,
    ),
    (
        "granted",
        pgettext_lazy("report figure", "Aid granted"),
        gettext_lazy(
            "Of those applications, the ones finally granted (approved by the leader where the "
            "amount needed it), paid or to pay."
        ),
        _int,
    ),
    (
        "refused",
        pgettext_lazy("report figure", "Aid refused"),
        gettext_lazy("Of those applications, the ones refused, with reasons and a written notice."),
        _int,
    ),
    (
        "paid",
        pgettext_lazy("report figure", "Aid paid"),
        gettext_lazy("Of those applications, the ones whose aid has been paid."),
        _int,
    ),
    (
        "requested",
        pgettext_lazy("report figure", "Amount applied for (yuan)"),
        gettext_lazy("The sum of the amounts requested in those applications."),
        _yuan,
    ),
    (
        "granted_amount",
        pgettext_lazy("report figure", "Amount granted (yuan)"),
        gettext_lazy("The sum of the amounts finally granted in those applications."),
        _yuan,
    ),
    (
        "paid_amount",
        pgettext_lazy("report figure", "Amount paid (yuan)"),
        gettext_lazy("The sum of the amounts paid on those applications."),
        _yuan,
    ),
    (
        "mean_days_to_decide",
        pgettext_lazy("report figure", "Average days to decide"),
        gettext_lazy(
            "From the materials complete to the final decision (the leader's approval when there "
            "was one), in calendar days, averaged over those applications decided; “—” when none."
        ),
        _days,
    ),
)
AID_TABLE_KEYS = (
    "applications",
    "granted",
    "refused",
    "paid",
    "requested",
    "granted_amount",
    "paid_amount",
)
_AMOUNT_KEYS = frozenset({"requested", "granted_amount", "paid_amount"})


def _aid_cell(key: str, value: Any) -> str:
    return _yuan(value) if key in _AMOUNT_KEYS else _int(value)


def _aid_headers() -> tuple[str, ...]:
    labels = {code: label for code, label, _definition, _fmt in AID_FIGURES}
    return tuple(str(labels[k]) for k in AID_TABLE_KEYS)


def aid_section(f: ReportFilters) -> ReportSection:
    figures = selectors_aid.counts(f.center_ids, f.since, f.until)
    rows = tuple(
        SectionRow(code, str(label), figures[code], fmt(figures[code]), str(definition))
        for code, label, definition, fmt in AID_FIGURES
    )
    kinds = dict(DepartmentKind.choices)
    by_organ = figures["by_organ"]
    organ_rows = tuple(
        SectionTableRow(
            str(kinds.get(kind, kind)),
            tuple(_aid_cell(k, by_organ[kind][k]) for k in AID_TABLE_KEYS),
        )
        for kind in (k for k in [*kinds, *sorted(set(by_organ) - set(kinds))] if k in by_organ)
    )
    by_center = figures["by_center"]
    centers = Center.objects.filter(pk__in=list(by_center)).order_by("path", "pk")
    center_rows = tuple(
        SectionTableRow(c.name, tuple(_aid_cell(k, by_center[c.pk][k]) for k in AID_TABLE_KEYS))
        for c in centers
    )
    return ReportSection(
        code="judicial_aid",
        title=pgettext("report section", "Judicial aid"),
        rows=rows,
        tables=(
            SectionTable(
                code="by_organ",
                caption=_("Judicial aid by deciding organ"),
                label_header=_("Organ"),
                headers=_aid_headers(),
                rows=organ_rows,
            ),
            SectionTable(
                code="by_center",
                caption=_("Judicial aid by center"),
                label_header=_("Center"),
                headers=_aid_headers(),
                rows=center_rows,
            ),
        ),
        note=_case_filters_note(f),
        links=((_("Judicial aid ledger"), reverse("outreach:aid_ledger")),),
    )


# --- ledger columns --------------------------------------------------------------------------------


def _count_on_case(qs: Any) -> Coalesce:
    """COUNT(*) of ``qs`` (already correlated on the outer case) as an integer, 0 when none."""
    counted = qs.order_by().values("case_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def home_visit_count() -> Coalesce:
    return _count_on_case(
        Outreach.objects.filter(case_id=OuterRef("pk"), kind=OutreachKind.HOME_VISIT)
    )


def appointment_count() -> Coalesce:
    return _count_on_case(
        Outreach.objects.filter(case_id=OuterRef("pk"), kind=OutreachKind.APPOINTMENT).exclude(
            state=OutreachState.CANCELLED
        )
    )


def leader_reception_count() -> Coalesce:
    return _count_on_case(
        Visit.objects.filter(case_id=OuterRef("pk"), received_by_leader__isnull=False)
    )


def aid_granted_amount() -> Coalesce:
    money = DecimalField(max_digits=14, decimal_places=2)
    granted = (
        AidApplication.objects.filter(
            case_id=OuterRef("pk"), state__in=selectors_aid.GRANTED_STATES
        )
        .order_by()
        .values("case_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(
        Subquery(granted, output_field=money), Value(Decimal("0.00")), output_field=money
    )


LEDGER_COLUMNS: tuple[Column, ...] = (
    Column(
        "outreach_home_visits",
        pgettext_lazy("ledger column", "Visits to the petitioner (下访)"),
        "outreach_home_visits",
        10,
        annotation=home_visit_count,
        screen=True,
    ),
    Column(
        "outreach_appointments",
        pgettext_lazy("ledger column", "Appointments (约访)"),
        "outreach_appointments",
        10,
        annotation=appointment_count,
        screen=True,
    ),
    Column(
        "outreach_leader_receptions",
        pgettext_lazy("ledger column", "Received by leaders"),
        "outreach_leader_receptions",
        10,
        annotation=leader_reception_count,
        screen=True,
    ),
    Column(
        "aid_granted_amount",
        pgettext_lazy("ledger column", "Judicial aid granted (yuan)"),
        "aid_granted_amount",
        14,
        annotation=aid_granted_amount,
        screen=True,
    ),
)
