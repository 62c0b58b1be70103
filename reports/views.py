"""Report pages: indicators with charts, ledgers and their exports, the department league table,
the staff record (工作鉴定), the monthly bulletin (简报) and notice (通报) with PDFs, and the
law-enforcement suggestions (执法建议) with the departments' responses.

Figures come from reports.indicators and reports.selectors (GROUP BY queries over the scoped
rows). Charts are drawn by static/js/reports.js from a ``json_script`` block (data, not code, so
the Content-Security-Policy needs no inline script), each beside a table with the same numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from core.dbrouter import replica_reads
from core.errors import DomainError
from core.errors import PermissionDenied as ServicePermissionDenied
from core.models import Department, User
from core.pdf import build_document
from petitions.validation import MAX_TEXT_LENGTH

from .cache import cached
from .charts import department_labels, is_empty, month_labels
from .filters import CHINA_TZ, ReportFilterForm, ReportFilters, may_view_reports, parse_filters
from .hooks import report_sections
from .indicators import COUNT_LABELS, INDICATORS, compute_cached, format_rate
from .ledger import (
    DEFAULT_COLUMNS,
    SCREEN_PAGE_SIZE,
    STATE_CHOICES,
    SafeCsvWriter,
    all_columns,
    headers,
    ledger_cases,
    ledger_values,
    may_export_full_ids,
    screen_columns,
    screen_rows,
)
from .models import ExportFormat, ExportState, SuggestionState
from .selectors import (
    AGE_BUCKETS,
    BULLETIN_RULE,
    LEAGUE_RULE,
    Bulletin,
    aging_of_open_cases,
    by_department,
    by_subordinate_center,
    league_table,
    month_bulletin,
    monthly_trend,
    overdue_by_department,
    staff_cases,
    staff_in_scope,
    staff_records,
)
from .services import (
    InvalidExport,
    exports_of,
    is_overdue,
    issue_suggestion,
    open_export,
    respond_to_suggestion,
    start_export,
    suggestions_visible_to,
)

INDICATORS_BY_CODE = {i.code: i for i in INDICATORS}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    return user


def _require_reports(user: User) -> None:
    if not may_view_reports(user):
        raise DjangoPermissionDenied(_("Reports are for supervisors, leaders and archivists."))


def _filters_or_errors(
    request: HttpRequest, user: User
) -> tuple[ReportFilters | None, ReportFilterForm]:
    filters, form = parse_filters(request.GET, user=user)
    if filters is None:
        messages.error(request, _("Please correct the filters."))
    return filters, form


def _base_context(form: ReportFilterForm, filters: ReportFilters | None) -> dict[str, Any]:
    return {
        "form": form,
        "filters": filters,
        "query": urlencode(filters.as_params()) if filters else "",
    }


# --- indicators and charts ---------------------------------------------------------------------


@login_required
@require_GET
@replica_reads
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_reports(user)
    filters, form = _filters_or_errors(request, user)
    context = _base_context(form, filters)
    if filters is not None:
        now = timezone.now()
        report = compute_cached(filters, now=now)
        trend, aging, centers, overdue, departments = cached(
            "charts.v2",  # v2: department rows carry their name's parts
            filters,
            lambda: (
                monthly_trend(filters),
                aging_of_open_cases(filters, now),
                by_subordinate_center(filters),
                overdue_by_department(filters, now),
                by_department(filters, now),
            ),
        )
        aging_labels = {
            key: (
                _("%(low)s–%(high)s days") % {"low": low, "high": high}
                if high is not None
                else _("More than %(low)s days") % {"low": low - 1}
            )
            for key, low, high in AGE_BUCKETS
        }
        trend = month_labels([dict(r) for r in trend])
        departments = department_labels([dict(r) for r in departments])
        overdue = department_labels([dict(r) for r in overdue])
        aging_rows = [
            {"bucket": str(aging_labels[a["bucket"]]), "count": a["count"]} for a in aging
        ]
        chart_data = {
            "labels": {
                "registered": _("Registered"),
                "closed": _("Closed"),
                "cases": _("Cases"),
                "assigned": _("Cases assigned"),
                "overdue": _("Overdue cases"),
                "open": _("Open cases"),
            },
            "trend": trend,
            "by_department": departments,
            "aging": aging_rows,
            "by_center": centers,
            "overdue": overdue,
        }
        # The figures of the apps above (reports.hooks: outreach's 下访, 约访, receptions, tours
        # and judicial aid), cached like the rest by the filters.
        sections = cached("sections.v2", filters, lambda: report_sections(filters))
        context.update(
            report=report,
            sections=sections,
            count_rows=[(k, COUNT_LABELS[k], v) for k, v in report.counts.items()],
            trend=trend,
            by_department=departments,
            aging=aging_rows,
            by_center=centers,
            overdue=overdue,
            chart_data=chart_data,
            empty={
                "trend": is_empty(trend, "registered", "closed"),
                "by_department": is_empty(departments, "assigned"),
                "aging": is_empty(aging_rows, "count"),
                "by_center": is_empty(centers, "count"),
                "overdue": is_empty(overdue, "count"),
            },
        )
    return render(request, "reports/index.html", context)


# --- ledger and exports ------------------------------------------------------------------------------


class LedgerForm(forms.Form):
    # choices set per form: the built-in columns and those the apps above registered
    columns = forms.MultipleChoiceField(
        label=gettext_lazy("Columns"),
        widget=forms.CheckboxSelectMultiple,
        initial=list(DEFAULT_COLUMNS),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=ExportFormat.choices,
        initial=ExportFormat.XLSX,
        widget=forms.RadioSelect,
    )
    # The states chosen in the filter above the table, carried along: the file holds the rows
    # on screen.
    state = forms.MultipleChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=STATE_CHOICES,
        widget=forms.MultipleHiddenInput,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        full_ids = may_export_full_ids(user)
        field = self.fields["columns"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c.code, c.label) for c in all_columns() if full_ids or not c.pii_full]


@login_required
@require_http_methods(["GET", "POST"])
@replica_reads
def ledger(request: HttpRequest) -> HttpResponse:
    """The ledger page: filters in the query string, columns and format in the form; the
    export button creates a job and goes to its progress page."""
    user = _user(request)
    _require_reports(user)
    filters, form = _filters_or_errors(request, user)
    valid_states = dict(STATE_CHOICES)
    states = [s for s in request.GET.getlist("state") if s in valid_states]
    ledger_form = LedgerForm(request.POST or None, user=user, initial={"state": states})
    if request.method == "POST" and filters is not None and ledger_form.is_valid():
        data = ledger_form.cleaned_data
        params: dict[str, Any] = dict(filters.as_params())
        if data["state"]:
            params["state"] = list(data["state"])
        try:
            job = start_export(
                actor=user, filters=params, columns=data["columns"], fmt=data["format"]
            )
        except InvalidExport as exc:
            for message in exc.messages():
                ledger_form.add_error(None, message)
        else:
            return redirect("reports:export", pk=job.pk)
    context = _base_context(form, filters)
    context.update(
        ledger_form=ledger_form,
        recent=exports_of(user).order_by("-created_at")[:10],
    )
    context["state_choices"] = [(v, label, v in states) for v, label in STATE_CHOICES]
    if filters is not None:
        # the export's selector (reports.services.job_queryset): the same cases, the same order
        cases = ledger_cases(viewer=user, filters=filters, states=states)
        codes = screen_columns()
        paginator = Paginator(ledger_values(cases, codes), SCREEN_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        context.update(
            row_count=paginator.count,
            ledger_headers=headers(codes),
            ledger_rows=screen_rows(page.object_list, codes),
            pager=_pager(request, page),
            page_query=urlencode([*filters.as_params().items(), *(("state", s) for s in states)]),
        )
    return render(request, "reports/ledger.html", context)


def _pager(request: HttpRequest, page: Any) -> dict[str, Any]:
    def url(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    return {
        "number": page.number,
        "pages": page.paginator.num_pages,
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_reports(user)
    job = exports_of(user).filter(pk=pk).first()
    if job is None:  # not there, or another user's: the same 404
        raise Http404()
    return render(
        request,
        "reports/export.html",
        {
            "job": job,
            "status_url": reverse("api:reports-export-detail", args=[job.pk]),
            "download_url": reverse("reports:export_download", args=[job.pk]),
            "done": job.state == ExportState.DONE,
        },
    )


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    user = _user(request)
    _require_reports(user)
    job = exports_of(user).filter(pk=pk, state=ExportState.DONE).first()
    if job is None or not job.file:
        raise Http404()
    return FileResponse(open_export(job), as_attachment=True, filename=job.file_name)


# --- league table and staff record -------------------------------------------------------------------


@login_required
@require_GET
@replica_reads
def league(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_reports(user)
    filters, form = _filters_or_errors(request, user)
    context = _base_context(form, filters)
    if filters is not None:
        rows = cached("league.v2", filters, lambda: league_table(filters))  # v2: scored
        if request.GET.get("format") == "csv":
            return _league_csv(rows, filters)
        context["rows"] = rows
        context["rule"] = LEAGUE_RULE
        context["csv_query"] = urlencode({**filters.as_params(), "format": "csv"})
    return render(request, "reports/league.html", context)


def _league_csv(rows: list[Any], filters: ReportFilters) -> HttpResponse:
    """The league table as a spreadsheet (UTF-8 with a BOM for Excel), its rule printed under
    the rows, as on the page."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="league-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"'
    )
    response.write("\ufeff")
    writer = SafeCsvWriter(response)  # unit names are typed by administrators: no formulas
    writer.writerow(
        [
            _("Rank"),
            _("Department"),
            _("Score"),
            _("Cases assigned"),
            _("Timely acceptance rate"),
            _("On-time completion rate"),
            _("Satisfaction rate"),
            _("Overdue now"),
            _("Supervision orders"),
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.rank or "—",
                f"{r.department.center.name} · {r.department.name}",
                "—" if r.score is None else f"{r.score:.1f}",
                r.assigned,
                f"{format_rate(r.acceptance_rate)} ({r.acceptance[0]}/{r.acceptance[1]})",
                f"{format_rate(r.completion_rate)} ({r.completion[0]}/{r.completion[1]})",
                f"{format_rate(r.satisfaction_rate)} ({r.satisfaction[0]}/{r.satisfaction[1]})",
                r.overdue_now,
                r.orders,
            ]
        )
    writer.writerow([])
    writer.writerow([_("Ranking rule: %(rule)s") % {"rule": LEAGUE_RULE}])
    for code in ("timely_acceptance", "on_time_completion", "satisfaction"):
        indicator = INDICATORS_BY_CODE[code]
        writer.writerow([f"{indicator.label}：{indicator.definition}"])
    writer.writerow(
        [
            _("Period: %(start)s to %(end)s")
            % {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
        ]
    )
    return response


@login_required
@require_GET
@replica_reads
def staff(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_reports(user)
    filters, form = _filters_or_errors(request, user)
    context = _base_context(form, filters)
    if filters is not None:
        context["rows"] = cached(
            "staff", filters, lambda: staff_records(filters, staff_in_scope(filters))
        )
    return render(request, "reports/staff.html", context)


@login_required
@require_GET
@replica_reads
def staff_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require_reports(user)
    filters, form = _filters_or_errors(request, user)
    if filters is None:
        return redirect("reports:staff")
    member = next((u for u in staff_in_scope(filters) if u.pk == pk), None)
    if member is None:
        raise Http404()
    (row,) = staff_records(filters, [member])
    cases = staff_cases(filters, member)
    fmt = request.GET.get("format", "")
    if fmt == "pdf":
        return _staff_record_pdf(user, member, row, cases, filters)
    if fmt == "csv":
        return _staff_record_csv(member, row, cases, filters)
    context = _base_context(form, filters)
    params = filters.as_params()
    context.update(
        row=row,
        member=member,
        cases=cases,
        pdf_query=urlencode({**params, "format": "pdf"}),
        csv_query=urlencode({**params, "format": "csv"}),
    )
    return render(request, "reports/staff_record.html", context)


def _staff_record_facts(member: User, row: Any) -> list[tuple[str, str]]:
    return [
        (_("Staff member"), str(member)),
        (_("Department"), f"{member.center.name} · {member.department.name}"),
        (_("Cases handled"), str(row.handled)),
        (_("On-time completion rate"), format_rate(row.completion_rate)),
        (_("Satisfaction rate"), format_rate(row.satisfaction_rate)),
        (_("Supervision orders received"), str(row.orders)),
    ]


def _staff_case_cells(a: Any) -> list[str]:
    return [
        a.case.number,
        f"{a.accepted_at:%Y-%m-%d}" if a.accepted_at else "",
        f"{a.due_at:%Y-%m-%d}" if a.due_at else "",
        str(a.case.get_state_display()),
    ]


def _staff_record_pdf(
    user: User, member: User, row: Any, cases: Any, filters: ReportFilters
) -> HttpResponse:
    """The staff record as a printable A4 document (the same facts and cases as the page)."""
    period = f"{filters.start:%Y-%m-%d} — {filters.end:%Y-%m-%d}"
    lines = [period, ""]
    lines += [f"{label}：{value}" for label, value in _staff_record_facts(member, row)]
    lines += ["", str(_("Cases handled"))]
    lines += ["\u3000\u3000" + "　".join(c for c in _staff_case_cells(a) if c) for a in cases]
    if not cases:
        lines.append("\u3000\u3000" + str(_("None in the period.")))
    pdf = build_document(title=str(_("Staff record")), lines=lines, author=str(user))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="staff-{member.pk}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.pdf"'
    )
    return response


def _staff_record_csv(member: User, row: Any, cases: Any, filters: ReportFilters) -> HttpResponse:
    """The staff record as a spreadsheet: its facts, then one row per case (UTF-8 with a BOM)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="staff-{member.pk}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"'
    )
    response.write("\ufeff")
    writer = SafeCsvWriter(response)  # names are typed by people: no formulas
    writer.writerow([_("Period"), f"{filters.start:%Y-%m-%d}", f"{filters.end:%Y-%m-%d}"])
    for label, value in _staff_record_facts(member, row):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow([_("Case number"), _("Accepted at"), _("Due"), _("State")])
    for a in cases:
        writer.writerow(_staff_case_cells(a))
    return response


# --- monthly bulletin (简报) and notice (通报) -------------------------------------------------------


def _month(request: HttpRequest) -> date:
    raw = request.GET.get("month", "")
    today = timezone.now().astimezone(CHINA_TZ).date()
    if not raw:
        first = today.replace(day=1)
        return (first - timedelta(days=1)).replace(day=1) if today.day < 8 else first
    try:
        year, month = (int(p) for p in raw.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise Http404() from None


def _bulletin(request: HttpRequest, user: User) -> tuple[Bulletin, ReportFilterForm]:
    month = _month(request)
    end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    query = request.GET.copy()
    query["from"], query["to"] = month.isoformat(), end.isoformat()
    filters, form = parse_filters(query, user=user)
    if filters is None:
        raise Http404()
    return month_bulletin(filters, month), form


def _bulletin_lines(b: Bulletin, kind: str) -> list[str]:
    f = b.filters
    scope = f.center.name if f.center else _("All centers")
    lines = [
        _("Scope: %(scope)s; period: %(start)s to %(end)s.")
        % {"scope": scope, "start": f.start, "end": f.end},
        "",
    ]
    if kind == "bulletin":
        lines.append(_("I. Main figures"))
        counts = "；".join(f"{COUNT_LABELS[k]} {v}" for k, v in b.report.counts.items())
        lines.append("\u3000\u3000" + counts + "。")
        for ind in b.report.indicators:
            lines.append(
                "\u3000\u3000"
                + _("%(label)s: %(value)s (%(num)s/%(den)s)")
                % {
                    "label": ind.label,
                    "value": ind.display,
                    "num": ind.numerator,
                    "den": ind.denominator,
                }
            )
            # the rule beside the figure: these go upward and are compared with other centers'
            lines.append("\u3000\u3000\u3000\u3000" + ind.indicator.definition)
        lines += ["", _("II. Best units")]
        lines.append("\u3000\u3000" + _("Ranking rule: %(rule)s") % {"rule": LEAGUE_RULE})
        lines.append(_bulletin_rule_line())
        lines += [_league_line(r) for r in b.best] or ["\u3000\u3000" + _("None.")]
        lines += ["", _("III. Units to improve")]
        lines += [_league_line(r) for r in b.worst] or ["\u3000\u3000" + _("None.")]
        lines += ["", _("IV. Overdue cases")]
        lines += [
            "\u3000\u3000"
            + _("%(number)s, %(kind)s, overdue %(days)s days, %(department)s")
            % {"number": o.number, "kind": o.kind, "days": o.days, "department": o.department}
            for o in b.overdue
        ] or ["\u3000\u3000" + _("None.")]
        lines += ["", _("V. Supervision orders issued")]
        lines += [
            "\u3000\u3000"
            + f"{o.number} {o.case.number} {o.department.name if o.department else ''} "
            + str(o.get_state_display())
            for o in b.orders
        ] or ["\u3000\u3000" + _("None.")]
    else:
        lines.append(
            "\u3000\u3000"
            + _(
                "The following units had overdue cases or left supervision orders unanswered "
                "past their due date, and are hereby notified:"
            )
        )
        lines.append(_bulletin_rule_line())
        lines += [
            "\u3000\u3000"
            + _(
                "%(unit)s: %(late)s cases went overdue in the month, %(overdue)s overdue now, "
                "on-time completion %(rate)s"
            )
            % {
                "unit": f"{r.department.center.name} · {r.department.name}",
                "late": r.overdue_in_period,
                "overdue": r.overdue_now,
                "rate": format_rate(r.completion_rate),
            }
            for r in b.named
        ] or ["\u3000\u3000" + _("No unit is named this month.")]
        if b.unanswered:
            lines += ["", _("Supervision orders unanswered past their due date")]
            lines += [
                "\u3000\u3000"
                + f"{o.number} {o.case.number} "
                + (o.department.name if o.department else "")
                for o in b.unanswered
            ]
        lines += [
            "",
            "\u3000\u3000"
            + _(
                "The units named are to report their corrective measures in writing within 15 days."
            ),
        ]
    return lines


def _bulletin_rule_line() -> str:
    return "\u3000\u3000" + _("Rule for the units named and the better units: %(rule)s") % {
        "rule": BULLETIN_RULE
    }


def _league_line(r: Any) -> str:
    return "\u3000\u3000" + _(
        "%(unit)s: score %(score)s (timely acceptance %(acceptance)s, on-time completion "
        "%(completion)s, satisfaction %(satisfaction)s), %(late)s went overdue in the month, "
        "%(overdue)s overdue now"
    ) % {
        "unit": f"{r.department.center.name} · {r.department.name}",
        "score": "—" if r.score is None else f"{r.score:.1f}",
        "acceptance": format_rate(r.acceptance_rate),
        "completion": format_rate(r.completion_rate),
        "satisfaction": format_rate(r.satisfaction_rate),
        "late": r.overdue_in_period,
        "overdue": r.overdue_now,
    }


def _bulletin_page(request: HttpRequest, kind: str) -> HttpResponse:
    user = _user(request)
    _require_reports(user)
    b, form = _bulletin(request, user)
    title = (_("Monthly bulletin, %(month)s") if kind == "bulletin" else _("Notice, %(month)s")) % {
        "month": b.month.strftime("%Y-%m")
    }
    lines = _bulletin_lines(b, kind)
    if request.GET.get("format") == "pdf":
        pdf = build_document(title=title, lines=lines, author=str(user))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{kind}-{b.month:%Y-%m}.pdf"'
        return response
    query = request.GET.copy()
    query["format"] = "pdf"
    query["month"] = b.month.strftime("%Y-%m")
    return render(
        request,
        f"reports/{kind}.html",
        {
            "b": b,
            "title": title,
            "lines": lines,
            "pdf_url": f"?{query.urlencode()}",
            "month_value": b.month.strftime("%Y-%m"),
            "scope": form.scope,
        },
    )


@login_required
@require_GET
@replica_reads
def bulletin(request: HttpRequest) -> HttpResponse:
    return _bulletin_page(request, "bulletin")


@login_required
@require_GET
@replica_reads
def notice(request: HttpRequest) -> HttpResponse:
    return _bulletin_page(request, "notice")


# --- law-enforcement suggestions (执法建议) ------------------------------------------------------------


class SuggestionForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"), queryset=Department.objects.none()
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    problems = forms.CharField(
        label=gettext_lazy("Problems found"), widget=forms.Textarea, max_length=MAX_TEXT_LENGTH
    )
    suggestions = forms.CharField(
        label=gettext_lazy("Suggestions"), widget=forms.Textarea, max_length=MAX_TEXT_LENGTH
    )
    response_due = forms.DateField(
        label=gettext_lazy("Response due"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(center_id=user.center_id or 0, is_active=True)


class ResponseForm(forms.Form):
    response = forms.CharField(
        label=gettext_lazy("Response"), widget=forms.Textarea, max_length=MAX_TEXT_LENGTH
    )


def _may_issue(user: User) -> bool:
    from .services import SUGGESTION_ISSUER_ROLES

    return bool(user.is_superuser or (user.center_id and user.has_role(*SUGGESTION_ISSUER_ROLES)))


@login_required
@require_http_methods(["GET", "POST"])
def suggestions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    qs = suggestions_visible_to(user)
    if not may_view_reports(user) and not qs.exists() and not user.department_id:
        raise DjangoPermissionDenied(_("Suggestions are for center and department staff."))
    form = SuggestionForm(request.POST or None, user=user) if _may_issue(user) else None
    if request.method == "POST":
        if form is None:
            raise DjangoPermissionDenied(_("Suggestions are issued by supervisors and leaders."))
        if form.is_valid():
            try:
                made = issue_suggestion(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                for fld, errs in exc.message_dict.items():
                    form.add_error(fld if fld in form.fields else None, errs)
            except ServicePermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Suggestion %(number)s sent.") % {"number": made.number}
                )
                return redirect("reports:suggestion", pk=made.pk)
    items = list(qs.order_by("-issued_at")[:100])
    now = timezone.now()
    rows = [(s, is_overdue(s, now)) for s in items]
    return render(request, "reports/suggestions.html", {"rows": rows, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def suggestion(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = suggestions_visible_to(user).filter(pk=pk).first()
    if item is None:
        raise Http404()
    may_respond = item.state == SuggestionState.SENT and (
        user.is_superuser or (user.department_id == item.department_id and user.has_role("head"))
    )
    form = ResponseForm(request.POST or None) if may_respond else None
    if request.method == "POST":
        if form is None:
            raise DjangoPermissionDenied(_("The department head answers a suggestion."))
        if form.is_valid():
            try:
                respond_to_suggestion(
                    actor=user, suggestion=item, response=form.cleaned_data["response"]
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            except DomainError as exc:
                messages.error(request, str(exc))
                return redirect("reports:suggestion", pk=item.pk)
            else:
                messages.success(request, _("Response recorded."))
                return redirect("reports:suggestion", pk=item.pk)
    return render(
        request,
        "reports/suggestion.html",
        {"item": item, "form": form, "overdue": is_overdue(item), "cases": item.cases.all()},
    )
