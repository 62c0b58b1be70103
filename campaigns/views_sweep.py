"""The sweep (排查) pages: the criteria form and the candidates (campaigns:sweep), and one
candidate's keep-or-drop form (campaigns:sweep_candidate). They call the same services as the API
(campaigns.services.run_sweep / decide_candidate); errors come back as form errors (400) or
messages (409)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case as When_
from django.db.models import Count, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import DomainError, PermissionDenied
from core.models import User

from . import selectors, services
from .forms import HandDownForm
from .models import Campaign, CandidateDecision, SweepCandidate
from .sweep import BOOL_CRITERIA, CANDIDATE_CAP, LABELS, MAX_DAYS, MAX_VISITS

PAGE_SIZE = 100


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    return user


class SweepCriteriaForm(forms.Form):
    open_days_over = forms.IntegerField(
        label=LABELS["open_days_over"], required=False, min_value=0, max_value=MAX_DAYS
    )
    visits_at_least = forms.IntegerField(
        label=LABELS["visits_at_least"], required=False, min_value=1, max_value=MAX_VISITS
    )
    group = forms.BooleanField(label=LABELS["group"], required=False)
    skip_level = forms.BooleanField(label=LABELS["skip_level"], required=False)
    repeat_after_closure = forms.BooleanField(label=LABELS["repeat_after_closure"], required=False)
    final_returning = forms.BooleanField(label=LABELS["final_returning"], required=False)
    overdue = forms.BooleanField(label=LABELS["overdue"], required=False)
    dissatisfied = forms.BooleanField(label=LABELS["dissatisfied"], required=False)
    match = forms.ChoiceField(
        label=gettext_lazy("Combine"),
        choices=[
            ("all", gettext_lazy("All stated criteria (AND)")),
            ("any", gettext_lazy("Any of them (OR)")),
        ],
        initial="all",
        widget=forms.RadioSelect,
    )

    def criteria(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {"match": d["match"]}
        for name in ("open_days_over", "visits_at_least"):
            if d.get(name) is not None:
                out[name] = d[name]
        for name in BOOL_CRITERIA:
            if d.get(name):
                out[name] = True
        return out


class KeepForm(HandDownForm):
    """The hand-down of a kept candidate: the matter form without the case (the candidate's)."""

    def __init__(self, *args: Any, candidate: SweepCandidate, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["case_number"]
        self.case = candidate.case

    def service_fields(self) -> dict[str, Any]:
        fields = super().service_fields()
        fields.pop("case", None)
        return fields


class DecisionForm(forms.Form):
    keep = forms.TypedChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("0", gettext_lazy("Drop it")),
            ("1", gettext_lazy("Keep it and hand it down")),
        ],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _service_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str]) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = aliases.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def _candidates_page(request: HttpRequest, campaign: Campaign) -> Any:
    rows = (
        SweepCandidate.objects.filter(campaign=campaign)
        .select_related("case", "decided_by")
        .annotate(
            to_decide=When_(
                When(decision=CandidateDecision.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("to_decide", "pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for candidate in page.object_list:
        candidate.criteria_labels = [LABELS.get(c, c) for c in candidate.criteria_met]  # type: ignore[attr-defined]
    return page


def _render(
    request: HttpRequest, campaign: Campaign, form: SweepCriteriaForm, status: int = 200
) -> HttpResponse:
    user = _user(request)
    counts = {
        row["decision"]: row["n"]
        for row in SweepCandidate.objects.filter(campaign=campaign)
        .values("decision")
        .annotate(n=Count("pk"))
    }
    return render(
        request,
        "campaigns/sweep/sweep.html",
        {
            "campaign": campaign,
            "form": form,
            "manage": selectors.can_manage(user, campaign),
            "page": _candidates_page(request, campaign),
            "counts": counts,
            "cap": CANDIDATE_CAP,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sweep(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the saved criteria and the candidates. POST: run the sweep (re-running is safe: it
    keeps every decision, so a double submit runs it twice to the same result)."""
    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    if request.method != "POST":
        initial = {"match": "all", **(campaign.sweep_criteria or {})}
        return _render(request, campaign, SweepCriteriaForm(initial=initial))
    if not selectors.can_manage(user, campaign):
        raise DjangoPermissionDenied(_("Only the campaign's managers sweep."))
    form = SweepCriteriaForm(request.POST)
    if not form.is_valid():
        return _render(request, campaign, form, status=400)
    try:
        run = services.run_sweep(actor=user, campaign=campaign, criteria=form.criteria())
    except ValidationError as exc:
        _service_errors(form, exc, {"criteria": "__all__"})
        return _render(request, campaign, form, status=400)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("campaigns:sweep", pk=campaign.pk)
    if run.truncated:
        messages.warning(
            request,
            _(
                "More than %(cap)d cases met the criteria: add criteria to narrow the sweep. The "
                "%(cap)d registered first are listed as candidates."
            )
            % {"cap": CANDIDATE_CAP},
        )
    else:
        messages.success(request, _("%(total)d cases met the criteria.") % {"total": run.total})
    return redirect("campaigns:sweep", pk=campaign.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sweep_candidate(request: HttpRequest, pk: int, cid: int) -> HttpResponse:
    """One candidate: keep it (with its hand-down) or drop it, with a reason."""
    user = _user(request)
    campaign = selectors.get_campaign_for(user, pk)
    try:
        candidate = SweepCandidate.objects.select_related("case", "decided_by").get(
            campaign=campaign, pk=cid
        )
    except SweepCandidate.DoesNotExist:
        raise Http404("No such candidate") from None
    candidate.campaign = campaign
    manage = selectors.can_manage(user, campaign)
    status = 200
    if request.method == "POST":
        if not manage:
            raise DjangoPermissionDenied(_("Only the campaign's managers decide."))
        decision = DecisionForm(request.POST)
        keep_form = KeepForm(request.POST, actor=user, campaign=campaign, candidate=candidate)
        status = 400
        if decision.is_valid():
            keep = decision.cleaned_data["keep"]
            # the hand-down fields count only when keeping
            if not keep or keep_form.is_valid():
                try:
                    services.decide_candidate(
                        actor=user,
                        candidate=candidate,
                        keep=keep,
                        reason=decision.cleaned_data["reason"],
                        hand_down=keep_form.service_fields() if keep else None,
                    )
                except ValidationError as exc:
                    _service_errors(decision, exc, {})
                    if keep:
                        _service_errors(
                            keep_form,
                            exc,
                            {
                                "center": "receiver",
                                "department": "receiver",
                                "hand_down": "__all__",
                            },
                        )
                except PermissionDenied as exc:
                    raise DjangoPermissionDenied(str(exc)) from exc
                except DomainError as exc:
                    # e.g. the same form sent twice: the first one decided it
                    messages.info(request, str(exc))
                    return redirect("campaigns:sweep", pk=campaign.pk)
                else:
                    done = (
                        _("Kept and handed down: %(number)s.")
                        if keep
                        else _("Dropped: %(number)s.")
                    )
                    messages.success(request, done % {"number": candidate.case.number})
                    return redirect("campaigns:sweep", pk=campaign.pk)
    else:
        decision = DecisionForm()
        keep_form = KeepForm(actor=user, campaign=campaign, candidate=candidate)
    return render(
        request,
        "campaigns/sweep/candidate.html",
        {
            "campaign": campaign,
            "candidate": candidate,
            "criteria_labels": [LABELS.get(c, c) for c in candidate.criteria_met],
            "manage": manage and candidate.decision != CandidateDecision.KEPT,
            "decision": decision,
            "keep_form": keep_form,
        },
        status=status,
    )
