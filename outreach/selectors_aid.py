"""Reads of judicial aid (司法救助).

- ``aid_for_case(case)``: a case's applications (the case was reached through get_case_for);
- ``get_aid_for(user, case_pk, aid_pk)``: one application of a case the user may see, else 404;
- ``ledger_for(user, ...)``: the aid ledger, scoped like the reports' ledgers: applications on
  the cases the viewer may see (petitions.selectors.cases_visible_to);
- ``counts(center_ids, since, until)`` for the reports (helper I): see its docstring;
- ``case_panel_context(user, case, page)``: the case page's aid part (outreach.case_panel).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind
from core.models import User
from petitions.models import Case
from petitions.selectors import cases_visible_to

from .models import AidApplication, AidState, EligibilityCheck, EligibilityQuestion

GRANTED_STATES = (AidState.GRANTED, AidState.PAID)
DECIDED_STATES = (AidState.GRANTED, AidState.PAID, AidState.REFUSED)


def _with_rows(qs: QuerySet[AidApplication]) -> QuerySet[AidApplication]:
    return qs.select_related(
        "case", "applicant", "department__center", "decided_by", "approved_by", "voucher"
    )


def aid_for_case(case: Case) -> QuerySet[AidApplication]:
    """The case's applications, newest first, with their checklist answers."""
    checks = EligibilityCheck.objects.select_related("question").order_by(
        "question__sort_order", "question_id"
    )
    return _with_rows(AidApplication.objects.filter(case_id=case.pk)).prefetch_related(
        Prefetch("eligibility", queryset=checks)
    )


def get_aid_for(user: User, case_pk: int | str, aid_pk: int | str) -> AidApplication:
    """One application of a case the user may see; not-yours and not-found are the same 404."""
    try:
        return _with_rows(
            AidApplication.objects.filter(
                case__in=cases_visible_to(user).filter(pk=case_pk)
            ).prefetch_related("eligibility__question")
        ).get(pk=aid_pk)
    except (AidApplication.DoesNotExist, ValueError, TypeError):
        raise Http404("No such application") from None


def aid_visible_to(user: User) -> QuerySet[AidApplication]:
    return AidApplication.objects.filter(case__in=cases_visible_to(user))


# --- the ledger -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFilters:
    since: date | None = None  # applied on or after (Beijing days)
    until: date | None = None  # applied on or before
    organ: str = ""  # a DepartmentKind (court, procuratorate, police, justice)
    state: str = ""


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


def ledger_for(user: User, f: LedgerFilters) -> QuerySet[AidApplication]:
    """The applications on the cases ``user`` may see, filtered, oldest application first."""
    qs = _with_rows(aid_visible_to(user))
    if f.since is not None:
        qs = qs.filter(applied_at__gte=_day_start(f.since))
    if f.until is not None:
        qs = qs.filter(applied_at__lt=_day_start(f.until + timedelta(days=1)))
    if f.organ:
        qs = qs.filter(department__kind=f.organ)
    if f.state:
        qs = qs.filter(state=f.state)
    return qs.order_by("applied_at", "pk")


# --- counts for the reports -------------------------------------------------------------------------


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 86400


def counts(center_ids: Iterable[int], since: datetime, until: datetime) -> dict[str, Any]:
    """Judicial aid of the cases held by ``center_ids``, for applications made in [since, until):

    - ``applications``: how many; ``granted`` (granted or paid: the final grant), ``refused``,
      ``paid``, ``awaiting_leader``, ``undecided`` (applied, complete or awaiting the leader);
    - ``requested``, ``granted_amount``, ``paid_amount``: sums in yuan (Decimal, 0 when none),
      of every application, of the final grants, of the payments;
    - ``mean_days_to_decide`` / ``median_days_to_decide``: from the materials complete to the
      final decision (the leader's approval when there was one), in days as a float rounded to
      one decimal, over the decided applications; None when none was decided;
    - ``by_organ``: the same counts and sums per department kind (court, procuratorate, police,
      justice), ``by_center``: per center id of the case. Two queries.
    """
    ids = list(center_ids)
    qs = AidApplication.objects.filter(
        case__center_id__in=ids, applied_at__gte=since, applied_at__lt=until
    )
    metrics = {
        "applications": Count("pk"),
        "granted": Count("pk", filter=Q(state__in=GRANTED_STATES)),
        "refused": Count("pk", filter=Q(state=AidState.REFUSED)),
        "paid": Count("pk", filter=Q(state=AidState.PAID)),
        "awaiting_leader": Count("pk", filter=Q(state=AidState.AWAITING_LEADER)),
        "undecided": Count(
            "pk",
            filter=Q(state__in=(AidState.APPLIED, AidState.COMPLETE, AidState.AWAITING_LEADER)),
        ),
        "requested": Sum("requested_amount"),
        "granted_amount": Sum("amount", filter=Q(state__in=GRANTED_STATES)),
        "paid_amount": Sum("paid_amount", filter=Q(state=AidState.PAID)),
    }

    def clean(row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in metrics:
            value = row.get(key)
            if key in ("requested", "granted_amount", "paid_amount"):
                out[key] = value if value is not None else Decimal("0.00")
            else:
                out[key] = int(value or 0)
        return out

    result = clean(qs.aggregate(**metrics))
    result["by_organ"] = {
        row["department__kind"]: clean(row)
        for row in qs.values("department__kind").annotate(**metrics).order_by("department__kind")
    }
    result["by_center"] = {
        row["case__center_id"]: clean(row)
        for row in qs.values("case__center_id").annotate(**metrics).order_by("case__center_id")
    }
    durations = [
        d
        for d in (
            _days(completed, approved or decided)
            for completed, decided, approved in qs.filter(state__in=DECIDED_STATES).values_list(
                "completed_at", "decided_at", "approved_at"
            )
        )
        if d is not None
    ]
    result["mean_days_to_decide"] = round(statistics.mean(durations), 1) if durations else None
    result["median_days_to_decide"] = round(statistics.median(durations), 1) if durations else None
    return result


# --- the case page ----------------------------------------------------------------------------------


def case_panel_context(user: User, case: Case, page: Any = None) -> dict[str, Any]:
    """The aid part of the case page: the applications (with checklist answers and what the
    viewer may do on each), the open aid clocks, the checklist questions. Four queries, plus the
    permission reads of the forms shown."""
    from .services import aid as services

    applications = list(aid_for_case(case))
    clocks = {
        d.kind: d
        for d in Deadline.objects.filter(
            case_id=case.pk,
            kind__in=(DeadlineKind.AID_DECISION, DeadlineKind.AID_PAYMENT),
            met_at__isnull=True,
        )
    }
    rows = []
    for application in applications:
        application.case = case
        rows.append(
            {
                "application": application,
                "checks": list(application.eligibility.all()),
                "may_prepare": services.may_prepare(user, application),
                "may_decide": services.may_decide(user, application),
                "may_approve": application.state == AidState.AWAITING_LEADER
                and services.may_approve(user, application),
                "may_pay": application.state == AidState.GRANTED
                and services.may_pay(user, application),
            }
        )
    questions = (
        list(EligibilityQuestion.objects.filter(is_active=True))
        if any(r["may_prepare"] or r["may_decide"] for r in rows)
        else []
    )
    return {
        "rows": rows,
        "questions": questions,
        "decision_clock": clocks.get(DeadlineKind.AID_DECISION),
        "payment_clock": clocks.get(DeadlineKind.AID_PAYMENT),
        "may_apply": services.may_apply(user, case)
        and (user.is_superuser or user.has_role(*services.APPLYING_ROLES)),
        "granted_total": sum(
            (a.amount or Decimal("0") for a in applications if a.state in GRANTED_STATES),
            Decimal("0"),
        ),
    }
