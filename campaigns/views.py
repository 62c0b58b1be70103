"""Campaign pages (专项活动): the list, the campaign form, the campaign page with its live figures,
charts and ledger, the matter page (个案台账, progress, signing), and the exports (Excel ledger,
PDF summary).

Reads go through campaigns.selectors (not-yours and not-found are the same 404); every write goes
through campaigns.services. A POST redirects back with a message (PRG), or renders the page again
with the form's errors (400), the service's message (409 for a DomainError, a stale version
included, with nothing saved) or 403 (PermissionDenied). The sweep (views_sweep) and quality
review (views_review) pages are other modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clocks.deadlines import CHINA_TZ
from core.dbrouter import replica_reads
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import CENTER_ROLES, DEPARTMENT_ROLES, Role
from petitions.selectors import cases_visible_to
from routing.selectors import page_slice

from . import selectors, services
from .charts import Chart, Series, bar_chart, center_labels
from .forms import (
    CEASED,
    OVERDUE,
    CampaignForm,
    HandDownForm,
    LedgerForm,
    MatterFilterForm,
    ProgressForm,
    SignForm,
)
from .models import Campaign, CampaignKind, CampaignState, Matter, MatterOutcome
from .services.matters import is_receiving_side, may_work_on

MANAGING_ROLES = (Role.SUPERVISOR, Role.LEADER)
LEDGER_PAGE_SIZE = 50
DUE_SOON_DAYS = 7
OPEN_OUTCOMES = (MatterOutcome.IN_HAND, MatterOutcome.STALLED)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def stale_message() -> str:
    return _("Changed by someone else in the meantime; please reload.")


def _optional_url(name: str, *args: Any) -> str:
    """The url of a page another module provides, or "" while it does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _add_service_errors(
    form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def _focus_first_error(form: forms.Form) -> None:
    for f in form.fields.values():
        f.widget.attrs.pop("autofocus", None)
    for name in form.errors:
        if name in form.fields and not form.fields[name].widget.is_hidden:
            form.fields[name].widget.attrs["autofocus"] = True
            return


def may_open_campaigns(user: User) -> bool:
    return bool(user.is_superuser or user.has_role(*MANAGING_ROLES))


# --- computed states of matters ---------------------------------------------------------------------


def with_states(qs: QuerySet[Matter], campaign: Campaign | None, now: datetime) -> QuerySet[Matter]:
    """Matters annotated with what the stored outcome does not say: ``is_terminated`` (the case
    was lawfully terminated) and, for one campaign, ``is_ceased`` (息诉罢访, computed by the
    selectors' rule over the observation window)."""
    qs = qs.annotate(
        is_terminated=ExpressionWrapper(selectors.terminated_case_q(), output_field=BooleanField())
    )
    if campaign is not None:
        qs = qs.annotate(
            is_ceased=ExpressionWrapper(
                selectors.ceased_q(campaign, now), output_field=BooleanField()
            )
        )
    return qs


def state_q(state: str, campaign: Campaign, now: datetime) -> Q:
    """The matters counted under ``state`` by campaign_summary, so a figure and its list agree."""
    terminated = selectors.terminated_case_q()
    resolved = Q(outcome=MatterOutcome.RESOLVED)
    if state == MatterOutcome.RESOLVED:
        return resolved
    if state == MatterOutcome.TERMINATED:
        return ~resolved & (Q(outcome=MatterOutcome.TERMINATED) | terminated)
    if state in (MatterOutcome.IN_HAND, MatterOutcome.STALLED):
        return Q(outcome=state) & ~terminated
    if state == CEASED:
        return selectors.ceased_q(campaign, now)
    if state == OVERDUE:
        return Q(outcome__in=OPEN_OUTCOMES, due_on__lt=_today()) & ~terminated
    return Q()


@dataclass(frozen=True)
class MatterRow:
    matter: Matter
    url: str
    state: str  # in_hand / resolved / stalled / terminated / ceased
    state_label: str
    due: str  # "" / "soon" / "overdue"


STATE_LABELS: dict[str, Any] = {
    **dict(MatterOutcome.choices),
}


def matter_state(matter: Matter) -> str:
    if getattr(matter, "is_ceased", False):
        return CEASED
    if matter.outcome != MatterOutcome.RESOLVED and getattr(matter, "is_terminated", False):
        return MatterOutcome.TERMINATED
    return str(matter.outcome)


def state_label(state: str) -> str:
    """The figure's word for a matter's state, so the ledger and the figures read alike."""
    return figure_labels().get(state, str(STATE_LABELS.get(state, state)))


def due_flag(matter: Matter, state: str, today: date) -> str:
    if state not in OPEN_OUTCOMES:
        return ""
    if matter.due_on < today:
        return "overdue"
    if matter.due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "soon"
    return ""


def matter_rows(matters: list[Matter], today: date) -> list[MatterRow]:
    rows = []
    for m in matters:
        state = matter_state(m)
        rows.append(
            MatterRow(
                matter=m,
                url=reverse("campaigns:matter", args=[m.campaign_id, m.pk]),
                state=state,
                state_label=state_label(state),
                due=due_flag(m, state, today),
            )
        )
    return rows


# --- the campaign list ------------------------------------------------------------------------------


def handed_to_us_q(user: User) -> Q:
    """Matters handed to the user's side by someone else's campaign: to their center (or one of
    its departments), their department, or to them as leader or handler."""
    condition = Q(leader_id=user.pk) | Q(handler_id=user.pk)
    if user.role_codes & DEPARTMENT_ROLES and user.department_id:
        condition |= Q(department_id=user.department_id)
    if user.role_codes & CENTER_ROLES and user.center_id:
        condition |= (Q(center_id=user.center_id) | Q(department__center_id=user.center_id)) & ~Q(
            campaign__center_id=user.center_id
        )
    return condition


def campaign_rows(user: User) -> list[dict[str, Any]]:
    """The viewer's campaigns, running first, with their figures over the matters the viewer
    reads: two queries whatever the number of campaigns."""
    from django.db.models import Count

    today = _today()
    campaigns = list(selectors.campaigns_visible_to(user).select_related("center"))
    # running first (the nearest deadline on top), then the closed ones, latest first
    campaigns.sort(
        key=lambda c: (
            c.state != CampaignState.OPEN,
            c.ends_on.toordinal() * (1 if c.state == CampaignState.OPEN else -1),
            -c.pk,
        )
    )
    ids = [c.pk for c in campaigns]
    figures: dict[int, Any] = {}
    if ids:
        rows = (
            selectors.matters_visible_to(user)
            .select_related(None)
            .filter(campaign_id__in=ids)
            .order_by()
            .values("campaign_id")
            .annotate(
                handed_down=Count("pk"),
                resolved=Count("pk", filter=Q(outcome=MatterOutcome.RESOLVED)),
                overdue=Count("pk", filter=Q(outcome__in=OPEN_OUTCOMES, due_on__lt=today)),
            )
        )
        figures = {r["campaign_id"]: r for r in rows}
    out = []
    for c in campaigns:
        f = figures.get(c.pk, {})
        handed = f.get("handed_down", 0)
        resolved = f.get("resolved", 0)
        out.append(
            {
                "campaign": c,
                "url": reverse("campaigns:detail", args=[c.pk]),
                "days_left": (c.ends_on - today).days,
                "days_over": max(0, (today - c.ends_on).days),
                "handed_down": handed,
                "resolved": resolved,
                "overdue": f.get("overdue", 0),
                "resolution_rate": (resolved / handed) if handed else None,
            }
        )
    return out


@dataclass(frozen=True)
class HandedRow:
    row: MatterRow
    sign_form: SignForm | None


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = _today()
    handed = list(
        with_states(
            selectors.matters_visible_to(user).filter(handed_to_us_q(user)), None, timezone.now()
        )
        .select_related("campaign__center")
        .order_by("signed_at", "due_on", "pk")[:200]
    )
    handed_rows = [
        HandedRow(
            row=r,
            sign_form=SignForm(initial={"expected_version": r.matter.version})
            if r.matter.signed_at is None and r.state in OPEN_OUTCOMES
            else None,
        )
        for r in matter_rows(handed, today)
    ]
    return render(
        request,
        "campaigns/list.html",
        {
            "rows": campaign_rows(user),
            "handed": handed_rows,
            "may_open": may_open_campaigns(user),
            "today": today,
        },
    )


# --- the campaign form ------------------------------------------------------------------------------


def _creation_key(user: User, key: str) -> str:
    return f"campaigns:create:{user.pk}:{key}"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not may_open_campaigns(user):
        raise DjangoPermissionDenied(_("Campaigns are opened by supervisors and leaders."))
    if request.method != "POST":
        return render(request, "campaigns/form.html", {"form": CampaignForm(actor=user)})
    form = CampaignForm(request.POST, actor=user)
    status = 400
    if form.is_valid():
        key = form.cleaned_data.get("submission_key") or ""
        # A double submit of one form opens one campaign: the first request claims the key
        # (an atomic add in the shared cache) and records the campaign it opened; a second one
        # goes to that campaign instead of opening another.
        if key and not cache.add(_creation_key(user, key), 0, timeout=3600):
            done = cache.get(_creation_key(user, key))
            messages.info(request, _("This form was already sent."))
            return redirect(
                reverse("campaigns:detail", args=[done]) if done else reverse("campaigns:list")
            )
        try:
            campaign = services.create_campaign(actor=user, **form.service_fields())
        except ValidationError as exc:
            _add_service_errors(form, exc, {"targets": "resolution_target"})
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            if key:
                cache.set(_creation_key(user, key), campaign.pk, timeout=3600)
            messages.success(request, _("The campaign was opened."))
            return redirect("campaigns:detail", pk=campaign.pk)
        if key:
            cache.delete(_creation_key(user, key))
    _focus_first_error(form)
    return render(request, "campaigns/form.html", {"form": form}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    if not selectors.can_manage(user, campaign):
        raise DjangoPermissionDenied(_("Only the campaign's managers may change it."))
    if request.method != "POST":
        form = CampaignForm(actor=user, campaign=campaign)
        return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})
    form = CampaignForm(request.POST, actor=user, campaign=campaign)
    status = 400
    if form.is_valid():
        try:
            services.update_campaign(
                actor=user,
                campaign=campaign,
                expected_version=form.cleaned_data.get("expected_version"),
                **form.service_fields(),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc, {"targets": "resolution_target"})
        except StaleState:
            form.add_error(None, stale_message())
            status = 409
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, _("The campaign was saved."))
            return redirect("campaigns:detail", pk=campaign.pk)
    _focus_first_error(form)
    return render(
        request, "campaigns/form.html", {"form": form, "campaign": campaign}, status=status
    )


@login_required
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    form = SignForm(request.POST)
    version = form.cleaned_data.get("expected_version") if form.is_valid() else None
    try:
        services.close_campaign(actor=user, campaign=campaign, expected_version=version)
    except StaleState:
        messages.error(request, stale_message())
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The campaign was closed."))
    return redirect("campaigns:detail", pk=campaign.pk)


# --- the campaign page ------------------------------------------------------------------------------


FIGURE_KEYS = ("handed_down", "resolved", "in_hand", "stalled", "terminated", "ceased")
# The figure's list: the ledger filtered by that state ("" for every matter).
FIGURE_STATES = {
    "handed_down": "",
    "resolved": MatterOutcome.RESOLVED,
    "in_hand": MatterOutcome.IN_HAND,
    "stalled": MatterOutcome.STALLED,
    "terminated": MatterOutcome.TERMINATED,
    "ceased": CEASED,
}
BREAKDOWN_KEYS = ("handed_down", "resolved", "in_hand", "stalled", "ceased")


def figure_labels() -> dict[str, str]:
    return {
        "handed_down": _("Handed down"),
        "resolved": _("Resolved"),
        "in_hand": _("In hand"),
        "stalled": _("Stalled"),
        "terminated": _("Lawfully terminated"),
        "ceased": _("Ceased petitioning"),
    }


def ledger_url(campaign: Campaign, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    base = reverse("campaigns:matters", args=[campaign.pk])
    return f"{base}?{query}#ledger" if query else f"{base}#ledger"


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    value: float | None
    target: float | None
    verdict: str  # "meets" / "misses" / "" (no target or no figure)


def _rate(key: str, label: str, value: float | None, targets: dict[str, Any]) -> Rate:
    target = targets.get(key)
    target = float(target) if target is not None else None
    verdict = ""
    if value is not None and target is not None:
        verdict = "meets" if value >= target else "misses"
    return Rate(key, label, value, target, verdict)


@dataclass(frozen=True)
class BreakdownCell:
    key: str
    count: int
    url: str


@dataclass(frozen=True)
class BreakdownRow:
    id: Any
    name: str
    cells: list[BreakdownCell]
    resolution_rate: float | None
    cessation_rate: float | None


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    name_header: str
    rows: list[BreakdownRow]
    chart: Chart


def _week_label(iso: str | None) -> str:
    if not iso:
        return "—"
    day = date.fromisoformat(iso)
    return _("Week of %(month)s/%(day)s") % {"month": day.month, "day": day.day}


def breakdowns(campaign: Campaign, summary: dict[str, Any]) -> list[Breakdown]:
    labels = figure_labels()
    series = [
        Series("handed_down", labels["handed_down"], "bar-handed"),
        Series("resolved", labels["resolved"], "bar-resolved"),
        Series("ceased", labels["ceased"], "bar-ceased"),
    ]
    specs: list[tuple[str, str, str, str, Callable[[list[dict[str, Any]]], list[str]]]] = [
        ("by_center", "center", _("By receiving center"), _("Center"), center_labels),
        (
            "by_department",
            "department",
            _("By receiving department"),
            _("Department"),
            lambda rows: [str(r["name"] or "—") for r in rows],
        ),
        (
            "by_leader",
            "leader",
            _("By responsible leader"),
            _("Leader"),
            lambda rows: [str(r["name"] or "—") for r in rows],
        ),
        (
            "by_week",
            "week",
            _("By week handed down"),
            _("Week"),
            lambda rows: [_week_label(r["id"]) for r in rows],
        ),
    ]
    out = []
    for key, param, title, header, label_of in specs:
        rows = summary.get(key) or []
        names = label_of(rows)
        table = []
        for row, name in zip(rows, names, strict=True):
            cells = [
                BreakdownCell(
                    k,
                    int(row.get(k) or 0),
                    ledger_url(campaign, **{param: row["id"], "state": FIGURE_STATES[k]})
                    if row["id"] is not None
                    else "",
                )
                for k in BREAKDOWN_KEYS
            ]
            table.append(
                BreakdownRow(
                    id=row["id"],
                    name=str(row["name"]) if key != "by_week" else name,
                    cells=cells,
                    resolution_rate=row.get("resolution_rate"),
                    cessation_rate=row.get("cessation_rate"),
                )
            )
        chart_rows = [
            {**r, "name": n} if key == "by_week" else r for r, n in zip(rows, names, strict=True)
        ]
        out.append(
            Breakdown(
                key=key,
                title=title,
                name_header=header,
                rows=table,
                chart=bar_chart(chart_rows, series, labels=names),
            )
        )
    return out


def filter_form(request: HttpRequest, summary: dict[str, Any]) -> MatterFilterForm:
    """The ledger's filters; the choices are the summary's own rows (no further query)."""

    def choices(key: str) -> list[tuple[int, str]]:
        return [(r["id"], str(r["name"] or "—")) for r in summary.get(key) or [] if r["id"]]

    names = {"state", "center", "department", "leader", "week"}
    data = request.GET if any(request.GET.get(n) for n in names) else None
    return MatterFilterForm(
        data,
        centers=choices("by_center"),
        departments=choices("by_department"),
        leaders=choices("by_leader"),
    )


def filtered_matters(
    user: User, campaign: Campaign, form: MatterFilterForm, now: datetime
) -> QuerySet[Matter]:
    qs = with_states(selectors.matters_visible_to(user, campaign), campaign, now).select_related(
        "case__main_petitioner"
    )
    if not form.is_bound or not form.is_valid():
        return qs
    d = form.cleaned_data
    if d.get("state"):
        qs = qs.filter(state_q(d["state"], campaign, now))
    if d.get("center"):
        qs = qs.filter(Q(center_id=d["center"]) | Q(department__center_id=d["center"]))
    if d.get("department"):
        # as the summary's by_department: the receiving department, else the 包案 leader's
        qs = qs.filter(
            Q(department_id=d["department"])
            | Q(department__isnull=True, leader__department_id=d["department"])
        )
    if d.get("leader"):
        qs = qs.filter(leader_id=d["leader"])
    if d.get("week"):
        start = datetime.combine(d["week"], datetime.min.time(), tzinfo=CHINA_TZ)
        qs = qs.filter(handed_down_at__gte=start, handed_down_at__lt=start + timedelta(days=7))
    return qs


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    kind: str
    changes: list[str]


def history_rows(records: list[Any], model: type[Any]) -> list[HistoryRow]:
    """simple-history rows, newest first, each with the fields it changed (by verbose name).
    Many-to-many fields are compared by the history table's own rows, not re-read."""
    out = []
    names = {f.name: str(f.verbose_name) for f in model._meta.fields}
    kinds = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
    ordered = sorted(records, key=lambda r: (r.history_date, r.history_id))
    previous = None
    for record in ordered:
        changes: list[str] = []
        if previous is not None:
            for field in model._meta.fields:
                if field.name in ("version",):
                    continue
                if getattr(record, field.attname, None) != getattr(previous, field.attname, None):
                    changes.append(names.get(field.name, field.name))
        out.append(
            HistoryRow(
                at=record.history_date,
                who=str(record.history_user) if record.history_user_id else "—",
                kind=str(kinds.get(record.history_type, record.history_type)),
                changes=changes,
            )
        )
        previous = record
    out.reverse()
    return out


def _pager(request: HttpRequest, number: int, pages: int) -> dict[str, Any]:
    def url(n: int) -> str:
        params = request.GET.copy()
        params["page"] = str(n)
        return "?" + params.urlencode() + "#ledger"

    return {
        "number": number,
        "pages": pages,
        "previous_url": url(number - 1) if number > 1 else "",
        "next_url": url(number + 1) if number < pages else "",
    }


def _render_campaign(
    request: HttpRequest,
    campaign: Campaign,
    *,
    hand_down: HandDownForm | None = None,
    status: int = 200,
    ledger_only: bool = False,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    today = now.astimezone(CHINA_TZ).date()
    manage = selectors.can_manage(user, campaign)
    summary = selectors.campaign_summary(campaign, user=user, now=now)
    labels = figure_labels()
    targets = summary.get("targets") or {}
    form = filter_form(request, summary)
    matters = filtered_matters(user, campaign, form, now)
    total = matters.count()
    number, offset, pages = page_slice(total, request.GET.get("page"), LEDGER_PAGE_SIZE)
    page = list(matters.order_by("due_on", "pk")[offset : offset + LEDGER_PAGE_SIZE])
    is_open = campaign.state == CampaignState.OPEN
    if hand_down is None and manage and is_open and not ledger_only:
        hand_down = HandDownForm(actor=user, campaign=campaign)
    if hand_down is not None and hand_down.is_bound:
        _focus_first_error(hand_down)
    context: dict[str, Any] = {
        "campaign": campaign,
        "manage": manage,
        "is_open": is_open,
        "today": today,
        "days_left": (campaign.ends_on - today).days,
        "members": list(campaign.members.all()),
        "summary": summary,
        "figures": [
            {
                "key": k,
                "label": labels[k],
                "count": summary.get(k) or 0,
                "url": ledger_url(campaign, state=FIGURE_STATES[k]),
            }
            for k in FIGURE_KEYS
        ],
        "rates": [
            _rate("resolution_rate", _("Resolution rate"), summary.get("resolution_rate"), targets),
            _rate("cessation_rate", _("Cessation rate"), summary.get("cessation_rate"), targets),
        ],
        "breakdowns": [] if ledger_only else breakdowns(campaign, summary),
        "breakdown_labels": [labels[k] for k in BREAKDOWN_KEYS],
        "filter_form": form,
        "ledger": matter_rows(page, today),
        "ledger_total": total,
        "pager": _pager(request, number, pages),
        "hand_down": hand_down,
        "ledger_only": ledger_only,
        "history": []
        if ledger_only
        else history_rows(
            list(campaign.history.select_related("history_user").order_by("-history_date")[:50]),
            Campaign,
        ),
        "sweep_url": _optional_url("campaigns:sweep", campaign.pk)
        if campaign.kind == CampaignKind.SWEEP
        else "",
        "review_url": _optional_url("campaigns:review_results", campaign.pk)
        if campaign.kind == CampaignKind.QUALITY_REVIEW
        else "",
        "desk_url": _optional_url("intake:desk"),
        "close_form": SignForm(initial={"expected_version": campaign.version})
        if manage and is_open
        else None,
    }
    return render(request, "campaigns/detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    return _render_campaign(request, selectors.get_campaign_for(user, pk))


@never_cache
@login_required
@require_GET
def matter_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The ledger alone (the figures' drill-down): the campaign page's list with its filters."""
    user = _user(request)
    return _render_campaign(request, selectors.get_campaign_for(user, pk), ledger_only=True)


@login_required
@require_POST
def matter_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    if not selectors.can_manage(user, campaign):
        raise DjangoPermissionDenied(_("Only the campaign's managers hand matters down."))
    form = HandDownForm(request.POST, actor=user, campaign=campaign)
    status = 400
    if form.is_valid():
        case = form.case
        existing = Matter.objects.filter(campaign=campaign, case=case).first()
        if existing is not None:
            # the same form sent twice, or a case already handed down in this campaign
            messages.info(request, _("This case was already handed down in this campaign."))
            return redirect("campaigns:matter", pk=campaign.pk, mid=existing.pk)
        try:
            matter = services.hand_down_matter(
                actor=user, campaign=campaign, **form.service_fields()
            )
        except ValidationError as exc:
            _add_service_errors(
                form, exc, {"case": "case_number", "center": "receiver", "department": "receiver"}
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 409
        except IntegrityError:
            existing = Matter.objects.filter(campaign=campaign, case=case).first()
            if existing is None:
                raise
            messages.info(request, _("This case was already handed down in this campaign."))
            return redirect("campaigns:matter", pk=campaign.pk, mid=existing.pk)
        else:
            messages.success(request, _("The matter was handed down."))
            return redirect("campaigns:matter", pk=campaign.pk, mid=matter.pk)
    return _render_campaign(request, campaign, hand_down=form, status=status)


# --- a matter ---------------------------------------------------------------------------------------


def _render_matter(
    request: HttpRequest,
    campaign: Campaign,
    matter: Matter,
    *,
    ledger_form: LedgerForm | None = None,
    progress_form: ProgressForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    today = now.astimezone(CHINA_TZ).date()
    matter = with_states(
        selectors.matters_visible_to(user, campaign).filter(pk=matter.pk), campaign, now
    ).get()
    state = matter_state(matter)
    manage = selectors.can_manage(user, campaign)
    receiving = user.is_superuser or is_receiving_side(user, matter)
    campaign_open = campaign.state == CampaignState.OPEN
    may_write = may_work_on(user, matter) and campaign_open
    matter_open = state in OPEN_OUTCOMES
    if ledger_form is None and may_write:
        ledger_form = LedgerForm(
            initial={
                "summary": matter.summary,
                "since": matter.since,
                "work_done": matter.work_done,
                "obstacle": matter.obstacle,
                "next_step": matter.next_step,
                "expected_version": matter.version,
            }
        )
    if progress_form is None and may_write and matter_open:
        progress_form = ProgressForm(initial={"expected_version": matter.version})
    for bound in (ledger_form, progress_form):
        if bound is not None and bound.is_bound:
            _focus_first_error(bound)
    can_read_case = cases_visible_to(user).filter(pk=matter.case_id).exists()
    context = {
        "campaign": campaign,
        "matter": matter,
        "state": state,
        "state_label": state_label(state),
        "due": due_flag(matter, state, today),
        "days_to_due": (matter.due_on - today).days,
        "days_overdue": max(0, (today - matter.due_on).days),
        "manage": manage,
        "receiving": receiving,
        "ledger_form": ledger_form if may_write else None,
        "progress_form": progress_form if may_write and matter_open else None,
        "sign_form": SignForm(initial={"expected_version": matter.version})
        if receiving and matter.signed_at is None and matter_open and campaign_open
        else None,
        "progress": [
            (p, state_label(p.outcome)) for p in matter.progress.select_related("recorded_by")
        ],
        "case_url": reverse("petitions:case_detail", args=[matter.case_id])
        if can_read_case
        else "",
        "supervision_url": _optional_url("supervision_case:detail", matter.case_id)
        if can_read_case
        else "",
        "history": history_rows(
            list(matter.history.select_related("history_user").order_by("-history_date")[:50]),
            Matter,
        ),
    }
    return render(request, "campaigns/matter.html", context, status=status)


def _matter(request: HttpRequest, pk: int, mid: int) -> tuple[Campaign, Matter]:
    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    return campaign, selectors.get_matter_for(user, campaign, mid)


@never_cache
@login_required
@require_GET
def matter_detail(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    campaign, matter = _matter(request, pk, mid)
    return _render_matter(request, campaign, matter)


def _matter_write(
    request: HttpRequest,
    campaign: Campaign,
    matter: Matter,
    form: forms.Form,
    write: Callable[[], Any],
    done: str,
    **render_forms: Any,
) -> HttpResponse:
    """Run a matter's service write for a valid form: PRG on success, the page again with the
    errors (400), the stale-version message (409, nothing saved) or the domain message (409)."""
    status = 400
    if form.is_valid():
        try:
            write()
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except StaleState:
            messages.error(request, stale_message())
            form.add_error(None, stale_message())
            status = 409
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from exc
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            messages.success(request, done)
            return redirect("campaigns:matter", pk=campaign.pk, mid=matter.pk)
    return _render_matter(request, campaign, matter, status=status, **render_forms)


@login_required
@require_POST
def matter_ledger(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    campaign, matter = _matter(request, pk, mid)
    form = LedgerForm(request.POST)
    return _matter_write(
        request,
        campaign,
        matter,
        form,
        lambda: services.update_ledger(
            actor=_user(request),
            matter=matter,
            expected_version=form.cleaned_data.get("expected_version"),
            **form.service_fields(),
        ),
        _("The ledger was saved."),
        ledger_form=form,
    )


@login_required
@require_POST
def matter_progress(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    campaign, matter = _matter(request, pk, mid)
    form = ProgressForm(request.POST)

    def write() -> Any:
        d = form.cleaned_data
        return services.record_progress(
            actor=_user(request),
            matter=matter,
            text=d["text"],
            outcome=d["outcome"],
            obstacle=d.get("obstacle") or "",
            resolution=d.get("resolution") or "",
            expected_version=d.get("expected_version"),
            submission_key=d.get("submission_key") or "",
        )

    return _matter_write(
        request, campaign, matter, form, write, _("The progress was recorded."), progress_form=form
    )


@login_required
@require_POST
def matter_sign(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    user = _user(request)
    campaign, matter = _matter(request, pk, mid)
    form = SignForm(request.POST)
    version = form.cleaned_data.get("expected_version") if form.is_valid() else None
    back = _safe_next(request, reverse("campaigns:matter", args=[campaign.pk, matter.pk]))
    try:
        services.sign_for_matter(actor=user, matter=matter, expected_version=version)
    except StaleState:
        messages.error(request, stale_message())
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except (DomainError, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Signed for the matter."))
    return redirect(back)


# --- exports ----------------------------------------------------------------------------------------


def export_rows(user: User, campaign: Campaign, now: datetime) -> list[MatterRow]:
    matters = with_states(
        selectors.matters_visible_to(user, campaign), campaign, now
    ).select_related("case__main_petitioner")
    return matter_rows(list(matters.order_by("due_on", "pk")), now.astimezone(CHINA_TZ).date())


@login_required
@require_GET
@replica_reads
def ledger_export(request: HttpRequest, pk: int) -> HttpResponse:
    from .exports import ledger_workbook

    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    now = timezone.now()
    buffer = BytesIO()
    ledger_workbook(buffer, campaign, export_rows(user, campaign, now))
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign.pk}-ledger-{now.astimezone(CHINA_TZ):%Y%m%d}.xlsx"'
    )
    return response


@login_required
@require_GET
@replica_reads
def summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .exports import summary_document

    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    now = timezone.now()
    summary = selectors.campaign_summary(campaign, user=user, now=now)
    pdf = summary_document(campaign, summary, now=now, author=str(user))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="campaign-{campaign.pk}-summary.pdf"'
    return response
