"""The front desk (接待受理), the printable receipt and the public status page.

The desk is one page in two steps: find the person (their file and history in view), then one form
that records either a repeat visit on one of their open cases or a new case. Every write goes
through petitions.services; every read through petitions.selectors / intake.selectors.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from core.errors import DomainError, PermissionDenied
from core.models import User
from core.roles import Role
from petitions.models import FileLookup, Petitioner
from petitions.selectors import get_case_for
from petitions.services import (
    GROUP_VISIT_HEADCOUNT,
    answer_on_spot,
    find_petitioner_by_id_number,
    record_file_lookups,
    record_repeat_visit,
    register_case,
    upsert_petitioner,
)

from .forms import (
    BaseRepresentativeFormSet,
    LookupForm,
    RegistrationForm,
    RepresentativeFormSet,
)
from .selectors import (
    PetitionerFile,
    case_for_query_code,
    case_registered_with_key,
    find_petitioners,
    get_petitioner_for,
    leader_on_duty,
    petitioner_file,
)

logger = logging.getLogger(__name__)

DESK_ROLES = (Role.RECEPTION, Role.TRIAGE)
SESSION_QUERY_CODES = "intake_query_codes"
SESSION_QUERY_CODES_KEPT = 20
REPS_PREFIX = "reps"

# Public status page: attempts per client address and window. The query code has 32^8 values;
# this bounds guessing to a handful per window while a petitioner who mistypes can still retry.
STATUS_ATTEMPTS = 10
STATUS_WINDOW_SECONDS = 600


def _require_desk_role(user: User) -> None:
    if not (user.is_superuser or user.has_role(*DESK_ROLES)):
        raise DjangoPermissionDenied(_("The front desk is for reception and triage staff."))


# --- the desk -----------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    _require_desk_role(user)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "lookup":
        return _lookup(request, user)
    if action == "register":
        return _register(request, user)

    lookup = LookupForm()
    petitioner = None
    if "petitioner" in request.GET:
        petitioner = get_petitioner_for(user, request.GET["petitioner"])
        if petitioner is None:
            messages.error(request, _("No such person."))
    if petitioner is not None:
        file = petitioner_file(user, petitioner)
        form = RegistrationForm(petitioner=petitioner, open_cases=file.open_cases)
        return _render_desk(request, user, lookup=lookup, file=file, form=form)
    if request.GET.get("new") == "1":
        return _render_desk(request, user, lookup=lookup, form=RegistrationForm())
    return _render_desk(request, user, lookup=lookup)


def _lookup(request: HttpRequest, user: User) -> HttpResponse:
    # The lookup is a POST so that ID and phone numbers never appear in URLs or access logs.
    lookup = LookupForm(request.POST)
    if not lookup.is_valid():
        return _render_desk(request, user, lookup=lookup)
    data = lookup.cleaned_data
    matches = find_petitioners(
        user, id_number=data["id_number"], name=data["name"], phone=data["phone"]
    )
    # Recorded, and the found files open to this user for the visit (petitions.selectors).
    record_file_lookups(
        actor=user,
        petitioners=matches,
        how=FileLookup.How.ID_NUMBER if data["id_number"] else FileLookup.How.NAME_PHONE,
    )
    if len(matches) == 1:
        return _redirect_to_person(matches[0])
    if matches:
        return _render_desk(request, user, lookup=lookup, matches=matches)
    # Nobody on file: open the form for a new person with what the clerk already typed.
    initial: dict[str, Any] = {}
    if data["id_number"]:
        initial["id_number"] = data["id_number"]
    else:
        initial.update(name=data["name"], phone=data["phone"])
    form = RegistrationForm(initial=initial)
    return _render_desk(request, user, lookup=lookup, form=form, not_found=True)


def _redirect_to_person(petitioner: Petitioner) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("intake:desk") + "?" + urlencode({"petitioner": petitioner.pk})
    )


def _register(request: HttpRequest, user: User) -> HttpResponse:
    petitioner: Petitioner | None = None
    if request.POST.get("petitioner"):
        petitioner = get_petitioner_for(user, request.POST["petitioner"])
        if petitioner is None:
            messages.error(request, _("No such person."))
            return HttpResponseRedirect(reverse("intake:desk"))
    file = petitioner_file(user, petitioner) if petitioner is not None else None
    form = RegistrationForm(
        request.POST,
        request.FILES,
        petitioner=petitioner,
        open_cases=file.open_cases if file else (),
    )
    reps = RepresentativeFormSet(request.POST, prefix=REPS_PREFIX)
    lookup = LookupForm()
    if not (form.is_valid() and reps.is_valid()):
        return _render_desk(request, user, lookup=lookup, file=file, form=form, reps=reps)

    case = form.selected_case()
    if case is not None and petitioner is not None:
        return _record_repeat(request, user, form=form, file=file, petitioner=petitioner)

    already = case_registered_with_key(user, form.cleaned_data["submission_key"])
    if already is not None:
        # The same form again (a double click, or Back and resubmit): the case exists already.
        return HttpResponseRedirect(reverse("intake:receipt", args=[already.pk]))

    if petitioner is None and form.cleaned_data.get("id_number"):
        known = find_petitioner_by_id_number(
            form.cleaned_data["id_number"], form.cleaned_data["id_type"]
        )
        if known is not None:
            known_file = petitioner_file(user, known)
            if known_file.open_cases:
                # The person is on file with open cases: the clerk must see them and decide
                # whether this is a repeat visit (重复访) before a new case is opened.
                messages.warning(
                    request,
                    _(
                        "A file exists for this ID number and has open cases. Check whether this "
                        "is a repeat visit, then submit again."
                    ),
                )
                form = RegistrationForm(
                    initial=_carried_over(form),
                    petitioner=known,
                    open_cases=known_file.open_cases,
                )
                return _render_desk(request, user, lookup=lookup, file=known_file, form=form)
    return _register_new_case(request, user, form=form, reps=reps, file=file, petitioner=petitioner)


def _carried_over(form: RegistrationForm) -> dict[str, Any]:
    """What the clerk typed about the visit and the matter, to pre-fill the form again (files
    cannot be carried over and are chosen again)."""
    d = form.cleaned_data
    initial = {
        name: d.get(name)
        for name in ("submission_key", "channel", "headcount", *RegistrationForm.CASE_FIELDS)
        if name not in {"attachments", "attachment_kind", "category"}
    }
    category = d.get("category")
    initial["category"] = str(category.pk) if category is not None else ""
    return initial


def _record_repeat(
    request: HttpRequest,
    user: User,
    *,
    form: RegistrationForm,
    file: PetitionerFile | None,
    petitioner: Petitioner,
) -> HttpResponse:
    case = form.selected_case()
    assert case is not None
    d = form.cleaned_data
    try:
        record_repeat_visit(
            actor=user,
            case=case,
            petitioner=petitioner,
            channel=d["channel"],
            headcount=d["headcount"],
            notes=d.get("visit_notes") or "",
            submission_key=d["submission_key"],
        )
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _render_desk(request, user, lookup=LookupForm(), file=file, form=form)
    except (PermissionDenied, DomainError) as exc:
        form.add_error(None, str(exc))
        return _render_desk(request, user, lookup=LookupForm(), file=file, form=form)
    messages.success(
        request,
        _("Repeat visit recorded on case %(number)s.") % {"number": case.number},
    )
    return _redirect_to_person(petitioner)


def _register_new_case(
    request: HttpRequest,
    user: User,
    *,
    form: RegistrationForm,
    reps: BaseRepresentativeFormSet,
    file: PetitionerFile | None,
    petitioner: Petitioner | None,
) -> HttpResponse:
    d = form.cleaned_data
    attachments = [(d.get("attachment_kind") or "other", f) for f in d.get("attachments") or []]
    try:
        # One transaction: a case the service refuses leaves no half-saved person behind.
        with transaction.atomic():
            person = petitioner or upsert_petitioner(actor=user, data=form.petitioner_data())
            representatives = [
                upsert_petitioner(actor=user, data=rep.petitioner_data())
                for rep in reps.filled_forms()
            ]
            registration = register_case(
                actor=user,
                petitioner=person,
                data=form.case_data(),
                representatives=representatives,
                attachments=attachments,
                submission_key=d["submission_key"],
            )
            if registration.created and d.get("answered_on_spot"):
                answer_on_spot(actor=user, case=registration.case, answer=d["answer"])
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _render_desk(request, user, lookup=LookupForm(), file=file, form=form, reps=reps)
    except (PermissionDenied, DomainError) as exc:
        form.add_error(None, str(exc))
        return _render_desk(request, user, lookup=LookupForm(), file=file, form=form, reps=reps)

    case = registration.case
    if registration.query_code:
        # The code exists in clear only now (only its hash is stored): keep it for this user's
        # receipt in their session. Never log it.
        codes = dict(request.session.get(SESSION_QUERY_CODES, {}))
        codes[str(case.pk)] = registration.query_code
        request.session[SESSION_QUERY_CODES] = dict(list(codes.items())[-SESSION_QUERY_CODES_KEPT:])
    if registration.created:
        messages.success(request, _("Case %(number)s registered.") % {"number": case.number})
        if d.get("answered_on_spot"):
            messages.success(request, _("The case was answered on the spot and closed."))
        for warning in form.identity_warnings:  # a typed sex that contradicts the ID number
            messages.warning(request, warning)
    return HttpResponseRedirect(reverse("intake:receipt", args=[case.pk]))


def _add_service_errors(form: RegistrationForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    aliases = {"case": "visit_of"}
    for name, errors in exc.error_dict.items():
        target = aliases.get(name, name)
        form.add_error(target if target in form.fields else None, errors)


def _render_desk(
    request: HttpRequest,
    user: User,
    *,
    lookup: LookupForm,
    file: PetitionerFile | None = None,
    form: RegistrationForm | None = None,
    reps: BaseRepresentativeFormSet | None = None,
    matches: list[Petitioner] | None = None,
    not_found: bool = False,
) -> HttpResponse:
    if form is not None and reps is None:
        reps = RepresentativeFormSet(prefix=REPS_PREFIX)
    _set_autofocus(lookup, form)
    reps_open = False
    if form is not None and reps is not None:
        try:
            headcount = int(form["headcount"].value() or 1)
        except (TypeError, ValueError):
            headcount = 1
        reps_open = (
            bool(reps.is_bound and (reps.non_form_errors() or reps.total_error_count()))
            or headcount >= GROUP_VISIT_HEADCOUNT
        )
    today = timezone.localdate()
    context = {
        "lookup": lookup,
        "file": file,
        "form": form,
        "reps": reps,
        "matches": matches or [],
        "not_found": not_found,
        "duty": leader_on_duty(user.center, today),
        "today": today,
        "reps_open": reps_open,
        "group_headcount": GROUP_VISIT_HEADCOUNT,
    }
    return render(request, "intake/desk.html", context)


def _set_autofocus(lookup: LookupForm, form: RegistrationForm | None) -> None:
    """One autofocus per page, where the clerk's next keystroke goes: the first field in error,
    else the first field of the step at hand."""
    target: tuple[LookupForm | RegistrationForm, str]
    if lookup.is_bound and lookup.errors:
        target = (lookup, next((n for n in lookup.errors if n in lookup.fields), "id_number"))
    elif form is None:
        target = (lookup, "id_number")
    elif form.is_bound and form.errors:
        target = (form, next((n for n in form.errors if n in form.fields), "channel"))
    elif form.is_new_person:
        target = (form, "name")
    elif form.open_cases:
        target = (form, "visit_of")
    else:
        target = (form, "channel")
    target[0].fields[target[1]].widget.attrs["autofocus"] = True


# --- the receipt --------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET"])
def receipt(request: HttpRequest, case_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = get_case_for(user, case_id)
    query_code = request.session.get(SESSION_QUERY_CODES, {}).get(str(case.pk))
    context = {
        "case": case,
        "query_code": query_code,
        "status_url": request.build_absolute_uri(reverse("intake:status")),
    }
    return render(request, "intake/receipt.html", context)


# --- the public status page ---------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client says it is, and trusting it would
    # let anyone reset their own limit. A reverse proxy must set REMOTE_ADDR (e.g. gunicorn's
    # --forwarded-allow-ips) for the limit to be per petitioner rather than per proxy.
    return request.META.get("REMOTE_ADDR") or "unknown"


def status_attempts_key(ip: str) -> str:
    return f"intake:status-attempts:{ip}"


def _over_status_limit(request: HttpRequest) -> bool:
    """Count this attempt in a fixed window per client address; True once over the limit."""
    key = status_attempts_key(_client_ip(request))
    cache.add(key, 0, timeout=STATUS_WINDOW_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=STATUS_WINDOW_SECONDS)
        attempts = 1
    return attempts > STATUS_ATTEMPTS


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """Public: a petitioner checks their case with its number and query code. Shows the state
    and dates only, never personal data, and the same answer for an unknown number and a wrong
    code, so the page reveals nothing to someone who does not hold the receipt."""
    context: dict[str, Any] = {"case": None, "not_found": False, "limited": False}
    if request.method == "POST":
        if _over_status_limit(request):
            context["limited"] = True
            context["window_minutes"] = STATUS_WINDOW_SECONDS // 60
            return render(request, "intake/status.html", context, status=429)
        number = request.POST.get("number", "")[:40]
        code = request.POST.get("code", "")[:40]
        context["number"] = number
        case = case_for_query_code(number, code)
        if case is None:
            context["not_found"] = True
        else:
            context["case"] = case
    return render(request, "intake/status.html", context)
