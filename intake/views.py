"""The front desk (接待受理), the printable receipt and the public status page.

The desk is one page in two steps: find the person (their file and history in view), then one form
that records either a repeat visit on one of their open cases or a new case. Every write goes
through petitions.services; every read through petitions.selectors / intake.selectors.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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
from petitions.models import Case, FileLookup, Petitioner
from petitions.selectors import cases_linking, get_case_for
from petitions.services import (
    GROUP_VISIT_HEADCOUNT,
    CaseData,
    FieldDifference,
    FinalMatterUnconfirmed,
    OpenCaseExists,
    answer_on_spot,
    correct_petitioner,
    field_label,
    find_petitioner_by_id_number,
    holds_file,
    intake_petitioner,
    is_same_matter,
    record_file_lookups,
    record_repeat_visit,
    register_case,
    report_visit_to_case_center,
)
from petitions.states import CaseState

from .forms import (
    BaseRepresentativeFormSet,
    CorrectionForm,
    LookupForm,
    RegistrationForm,
    RepresentativeFormSet,
)
from .models import LeaderDuty
from .selectors import (
    CASES_SHOWN,
    PetitionerFile,
    case_for_query_code,
    case_registered_with_key,
    find_petitioners,
    get_petitioner_for,
    petitioner_file,
)

logger = logging.getLogger(__name__)

DESK_ROLES = (Role.RECEPTION, Role.TRIAGE)
SESSION_QUERY_CODES = "intake_query_codes"
SESSION_QUERY_CODES_KEPT = 20
# The last lookup's typed criteria, kept server side so that its answer is a GET page (POST /
# redirect / GET: Back after registering returns to the desk, not to a resubmission prompt) and
# ID and phone numbers stay out of URLs and access logs.
SESSION_LAST_LOOKUP = "intake_last_lookup"
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
        form = RegistrationForm(
            petitioner=petitioner, open_cases=file.open_cases, own_center_id=user.center_id
        )
        return _render_desk(request, user, lookup=lookup, file=file, form=form)
    if request.GET.get("new") == "1":
        return _render_desk(request, user, lookup=lookup, form=RegistrationForm())
    if request.GET.get("lookup") == "1":
        return _lookup_answer(request, user)
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
    # Several people, or nobody: the answer is the GET page below, with the criteria in the
    # session (server side), so that Back from the receipt lands on a page, not on a POST.
    request.session[SESSION_LAST_LOOKUP] = {
        "id_number": data["id_number"],
        "name": data["name"],
        "phone": data["phone"],
    }
    return HttpResponseRedirect(reverse("intake:desk") + "?lookup=1")


def _lookup_answer(request: HttpRequest, user: User) -> HttpResponse:
    """The answer to this session's last lookup (_lookup): the people it matches, or the form for
    a new person with what the clerk typed. Run again here, so that a file opened since (by a
    colleague, or by this clerk's registration before pressing Back) is found rather than offered
    a second time."""
    data = request.session.get(SESSION_LAST_LOOKUP)
    if not isinstance(data, dict):
        return HttpResponseRedirect(reverse("intake:desk"))
    criteria = {k: str(data.get(k) or "") for k in ("id_number", "name", "phone")}
    lookup = LookupForm(initial=criteria)
    matches = find_petitioners(user, **criteria)
    if len(matches) == 1:
        return _redirect_to_person(matches[0])
    if matches:
        return _render_desk(request, user, lookup=lookup, matches=matches)
    # Nobody on file: open the form for a new person with what the clerk already typed.
    initial: dict[str, Any] = {}
    if criteria["id_number"]:
        initial["id_number"] = criteria["id_number"]
    else:
        initial.update(name=criteria["name"], phone=criteria["phone"])
    form = RegistrationForm(initial=initial)
    return _render_desk(request, user, lookup=lookup, form=form, not_found=True)


def _redirect_to_person(petitioner: Petitioner) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("intake:desk") + "?" + urlencode({"petitioner": petitioner.pk})
    )


def _register(request: HttpRequest, user: User) -> HttpResponse:
    petitioner: Petitioner | None = None
    open_cases: list[Case] = []
    if request.POST.get("petitioner"):
        petitioner = get_petitioner_for(user, request.POST["petitioner"])
        if petitioner is None:
            messages.error(request, _("No such person."))
            return HttpResponseRedirect(reverse("intake:desk"))
        # Only what the form offers (the person's visible open cases); the whole file is read
        # when the page is shown again (issue 10: the desk's POST in at most 20 queries).
        open_cases = _open_cases(user, petitioner)
    form = RegistrationForm(
        request.POST,
        request.FILES,
        petitioner=petitioner,
        open_cases=open_cases,
        own_center_id=user.center_id,
    )
    if request.POST.get("received_by_leader"):
        # Only a visit marked as received by a leader reads today's schedule (the choice's
        # check): the desk's POST keeps its query count otherwise.
        form.offer_leaders(_duties_today(user))
    reps = RepresentativeFormSet(request.POST, prefix=REPS_PREFIX)
    lookup = LookupForm()

    def again() -> HttpResponse:
        file = petitioner_file(user, petitioner) if petitioner is not None else None
        return _render_desk(request, user, lookup=lookup, file=file, form=form, reps=reps)

    if not (form.is_valid() and reps.is_valid()):
        if "visit_of" in form.errors and form.open_cases:
            # No choice made (typically a page shown again by the Back button): if what was
            # typed is the matter of an open case, say so before anything else.
            form.open_case_conflict = _same_matter_case(form)
        return again()
    filled_reps = len(reps.filled_forms())
    if form.is_new_matter and filled_reps > form.cleaned_data["headcount"]:
        # Representatives are among the people who came (issue 13 #6); the service checks too.
        form.add_error(
            "headcount",
            _("%(reps)d representatives cannot come from %(n)d people: check the headcount.")
            % {"reps": filled_reps, "n": form.cleaned_data["headcount"]},
        )
        return again()

    case = form.selected_case()
    if case is not None and petitioner is not None:
        return _record_repeat(request, user, form=form, petitioner=petitioner)

    # The one-time key is checked once, under its lock, in the registration's transaction
    # (petitions.services.submitted_case); before it only where a file found by the typed ID
    # number would otherwise turn a double submit into a question about that file.
    known = _known_person(user, form) if petitioner is None else None
    if isinstance(known, HttpResponse):
        return known
    if known is not None:
        known_file = petitioner_file(user, known)
        if known_file.open_cases:
            # The person is on file with open cases: the clerk must see them and decide
            # whether this is a repeat visit (重复访) before a new case is opened.
            messages.warning(
                request,
                _(
                    "A file exists for this person and has open cases. Check whether this "
                    "is a repeat visit, then submit again."
                ),
            )
            typed = form
            form = RegistrationForm(
                initial=_carried_over(typed),
                petitioner=known,
                open_cases=known_file.open_cases,
                own_center_id=user.center_id,
            )
            form.open_case_conflict = _same_matter_case(typed, form.open_cases.values())
            return _render_desk(request, user, lookup=lookup, file=known_file, form=form)
    return _register_new_case(
        request,
        user,
        form=form,
        reps=reps,
        petitioner=petitioner,
        open_cases=open_cases if petitioner is not None else None,
        # The typed ID number was just looked up and is on no file (no second look).
        known_absent=petitioner is None
        and known is None
        and bool(form.cleaned_data.get("id_number")),
    )


def _open_cases(user: User, petitioner: Petitioner) -> list[Case]:
    """The person's open cases this user may see, newest first, as the file shows them
    (intake.selectors.petitioner_file): what the form offers for a repeat visit."""
    return list(
        cases_linking(user, petitioner)
        .filter(state__in=CaseState.open_states())
        .select_related("center", "channel", "purpose", "category__parent")[:CASES_SHOWN]
    )


def _known_person(user: User, form: RegistrationForm) -> Petitioner | HttpResponse | None:
    """The file of a person typed as new: by the ID number, or, without one, by exactly one file
    with the same name and phone number (a person without an ID document registered twice, for
    example by Back and 登记, must not get a second file and a second case). When that file
    exists and the form's one-time key registered a case already (a double submit), the redirect
    to that case's receipt, with nothing recorded."""
    d = form.cleaned_data
    known: Petitioner | None = None
    if d.get("id_number"):
        known = find_petitioner_by_id_number(d["id_number"], d["id_type"])
    elif (d.get("name") or "").strip() and d.get("phone"):
        matches = find_petitioners(user, name=d["name"], phone=d["phone"])
        if len(matches) == 1:
            known = matches[0]
    if known is None:
        return None
    already = case_registered_with_key(user, d["submission_key"])
    if already is not None:
        # The same form again (a double click, or Back and resubmit): the case exists already.
        return HttpResponseRedirect(reverse("intake:receipt", args=[already.pk]))
    if d.get("id_number"):
        # Typing a known ID number identifies the person exactly, as a lookup does.
        record_file_lookups(actor=user, petitioners=[known], how=FileLookup.How.ID_NUMBER)
    return known


def _same_matter_case(form: RegistrationForm, open_cases: Iterable[Case] = ()) -> Case | None:
    """The open case (of ``open_cases``, by default those the form offers) on the matter typed in
    the form, if any (petitions.services.is_same_matter); no query: they are loaded already."""
    d = form.cleaned_data
    category = d.get("category")
    if category is None:
        return None
    typed = CaseData(
        channel=d.get("channel"),  # type: ignore[arg-type]  # unused by is_same_matter
        purpose=d.get("purpose"),  # type: ignore[arg-type]
        category=category,
        request="",
        organ=d.get("organ"),
        legal_case_number=d.get("legal_case_number") or "",
    )
    cases = open_cases or form.open_cases.values()
    return next((c for c in cases if is_same_matter(c, typed)), None)


def _carried_over(form: RegistrationForm) -> dict[str, Any]:
    """What the clerk typed about the visit and the matter, to pre-fill the form again (files
    cannot be carried over and are chosen again)."""
    d = form.cleaned_data
    initial = {
        name: d.get(name)
        for name in (
            "submission_key",
            "channel",
            "headcount",
            "new_case_reason",
            "final_matter_confirmed",
            "final_matter_reason",
            *RegistrationForm.CASE_FIELDS,
        )
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
    petitioner: Petitioner,
) -> HttpResponse:
    case = form.selected_case()
    assert case is not None
    d = form.cleaned_data
    visit = {
        "actor": user,
        "case": case,
        "petitioner": petitioner,
        "channel": d["channel"],
        "headcount": d["headcount"],
        "notes": d.get("visit_notes") or "",
        "submission_key": d["submission_key"],
    }
    try:
        if user.is_superuser or case.center_id == user.center_id:
            record_repeat_visit(**visit, received_by_leader=form.receiving_leader())
        else:
            # Another center's case is read-only here: that center is told of the visit.
            report_visit_to_case_center(**visit)
            messages.success(
                request,
                _(
                    "%(center)s, which holds case %(number)s, has been notified of this visit. "
                    "The visit was not recorded on that case."
                )
                % {"center": case.center.name, "number": case.number},
            )
            return _redirect_to_person(petitioner)
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _render_desk(
            request, user, lookup=LookupForm(), file=petitioner_file(user, petitioner), form=form
        )
    except (PermissionDenied, DomainError) as exc:
        form.add_error(None, str(exc))
        return _render_desk(
            request, user, lookup=LookupForm(), file=petitioner_file(user, petitioner), form=form
        )
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
    petitioner: Petitioner | None,
    open_cases: list[Case] | None,
    known_absent: bool = False,
) -> HttpResponse:
    """``open_cases``: those of ``petitioner`` the form offered, read just now (None when the
    person was typed as new: a file opened here has none, a known one is read by the service)."""
    d = form.cleaned_data
    attachments = [(d.get("attachment_kind") or "other", f) for f in d.get("attachments") or []]
    person = petitioner
    differences: list[FieldDifference] = []
    person_is_new = False
    try:
        # One transaction: a case the service refuses leaves no half-saved person behind.
        with transaction.atomic():
            if person is None:
                main = intake_petitioner(
                    actor=user, data=form.petitioner_data(), known_absent=known_absent
                )
                person, differences = main.petitioner, main.differences
                open_cases = [] if main.created else None
                person_is_new = main.created
            representatives = []
            for rep in reps.filled_forms():
                # A representative's row gives only name and ID: it never blanks their file.
                found = intake_petitioner(actor=user, data=rep.petitioner_data())
                representatives.append(found.petitioner)
                differences += found.differences
            registration = register_case(
                actor=user,
                petitioner=person,
                data=form.case_data(),
                representatives=representatives,
                attachments=attachments,
                submission_key=d["submission_key"],
                new_case_reason=d.get("new_case_reason") or "",
                final_matter_confirmed=bool(d.get("final_matter_confirmed")),
                final_matter_reason=d.get("final_matter_reason") or "",
                open_cases=open_cases,
                petitioner_is_new=person_is_new,
                with_warnings=False,  # the desk shows them on the person's file, not after
                received_by_leader=form.receiving_leader(),
            )
            if registration.created and d.get("answered_on_spot"):
                answer_on_spot(actor=user, case=registration.case, answer=d["answer"])
    except OpenCaseExists as exc:
        return _open_case_exists(request, user, form=form, reps=reps, exc=exc, person=person)
    except (ValidationError, PermissionDenied, DomainError) as exc:
        if isinstance(exc, FinalMatterUnconfirmed):
            # A final matter (不再受理): nothing saved; the warning, the choice and the reason.
            form.final_matter_conflict = exc.case
        if isinstance(exc, ValidationError):
            _add_service_errors(form, exc)
        else:
            form.add_error(None, str(exc))
        file = petitioner_file(user, petitioner) if petitioner is not None else None
        return _render_desk(request, user, lookup=LookupForm(), file=file, form=form, reps=reps)

    case = registration.case
    if registration.query_code:
        # The code exists in clear only now (only its hash is stored): kept for this session's
        # receipt (keep_query_code). Never log it.
        keep_query_code(request, case.pk, registration.query_code)
    if registration.created:
        messages.success(request, _("Case %(number)s registered.") % {"number": case.number})
        if registration.repeat_of is not None:
            messages.info(
                request,
                _("Counted as a repeat visit: the same matter as case %(number)s.")
                % {"number": registration.repeat_of.number},
            )
        if d.get("answered_on_spot"):
            messages.success(request, _("The case was answered on the spot and closed."))
        for difference in differences:
            messages.warning(request, difference.message())
        for warning in form.identity_warnings:  # a typed sex that contradicts the ID number
            messages.warning(request, warning)
    return HttpResponseRedirect(reverse("intake:receipt", args=[case.pk]))


def _open_case_exists(
    request: HttpRequest,
    user: User,
    *,
    form: RegistrationForm,
    reps: BaseRepresentativeFormSet,
    exc: OpenCaseExists,
    person: Petitioner | None,
) -> HttpResponse:
    """The person has an open case on the same matter (a Back-and-resubmit, or a clerk who did not
    see it): nothing was saved. The form comes back with the warning and the choice: a repeat
    visit of that case, or a new case with a reason."""
    lookup = LookupForm()
    if form.petitioner is None and person is not None and person.pk is not None:
        # Typed as a new person, but the ID number is on file: continue with that file.
        person_file = petitioner_file(user, person)
        form = RegistrationForm(
            initial=_carried_over(form),
            petitioner=person,
            open_cases=person_file.open_cases,
            own_center_id=user.center_id,
        )
        form.open_case_conflict = exc.case
        return _render_desk(request, user, lookup=lookup, file=person_file, form=form)
    file = petitioner_file(user, form.petitioner) if form.petitioner is not None else None
    form.open_case_conflict = exc.case
    if file is not None and str(exc.case.pk) not in form.open_cases:
        form.open_cases[str(exc.case.pk)] = exc.case
    return _render_desk(request, user, lookup=lookup, file=file, form=form, reps=reps)


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
    duties = _duties_today(user)
    if form is not None and "received_by_leader" not in form.fields:
        form.offer_leaders(duties)
    context = {
        "lookup": lookup,
        "file": file,
        "form": form,
        "reps": reps,
        "matches": matches or [],
        "not_found": not_found,
        "duty": duties[0] if duties else None,
        "duties": duties,
        "today": today,
        "reps_open": reps_open,
        "group_headcount": GROUP_VISIT_HEADCOUNT,
        "history_url": _history_url(request, file, form),
    }
    return render(request, "intake/desk.html", context)


def _duties_today(user: User) -> list[LeaderDuty]:
    """Today's leaders receiving at the user's center (领导接访日), by time: the banner and the
    form's choice of who received the visit in person."""
    if user.center_id is None:
        return []
    return list(
        LeaderDuty.objects.filter(center_id=user.center_id, date=timezone.localdate())
        .select_related("leader")
        .order_by("starts_at", "pk")
    )


def _history_url(
    request: HttpRequest, file: PetitionerFile | None, form: RegistrationForm | None
) -> str:
    """For a page shown in answer to a POST (a form with errors, or a question to answer before
    registering), the GET address of the same step of the desk: intake.js puts it in place of
    the POST in the browser's history (history.replaceState), so that Back after the
    registration that follows returns to the desk instead of asking to resubmit a form.
    Empty for a GET page."""
    if request.method != "POST":
        return ""
    base = reverse("intake:desk")
    if file is not None:
        return base + "?" + urlencode({"petitioner": file.petitioner.pk})
    if form is not None:
        return base + "?new=1"
    return base


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


# --- correcting a person's file -----------------------------------------------------------------

HISTORY_SHOWN = 30
HISTORY_HIDDEN_FIELDS = {"id_number_hash", "phone_hash", "name_key", "center", "created_by"}


def _file_history(petitioner: Petitioner) -> list[dict[str, Any]]:
    """The saved versions of a file, newest first, with who, when, why and what changed (numbers
    masked: the encrypted and hashed columns are not shown)."""
    records = list(
        petitioner.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : HISTORY_SHOWN + 1
        ]
    )
    fields = {f.name: f for f in Petitioner._meta.concrete_fields}
    labels = {name: field_label(name) for name in fields}

    def shown(name: str, value: Any) -> Any:
        choices = dict(getattr(fields[name], "flatchoices", None) or ())
        return choices.get(value, value)

    rows: list[dict[str, Any]] = []
    for record, previous in zip(records, [*records[1:], None], strict=True):
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            changes = [
                {
                    "label": labels[c.field],
                    "old": shown(c.field, c.old),
                    "new": shown(c.field, c.new),
                }
                for c in delta.changes
                if c.field not in HISTORY_HIDDEN_FIELDS and c.field in labels
            ]
        rows.append({"record": record, "changes": changes})
    return rows[:HISTORY_SHOWN]


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def correct_file(request: HttpRequest, petitioner_id: int) -> HttpResponse:
    """Correct a returning person's details (信访人档案) typed wrongly, with the reason kept in the
    file's history: staff of the center that holds the file or of a center above it."""
    user: User = request.user  # type: ignore[assignment]
    _require_desk_role(user)
    petitioner = get_petitioner_for(user, petitioner_id)
    if petitioner is None:
        raise Http404("No such person")
    may_correct = holds_file(user, petitioner)
    form = CorrectionForm(request.POST or None, petitioner=petitioner)
    if request.method == "POST":
        if not may_correct:
            raise DjangoPermissionDenied(_("Only the center that holds this file may correct it."))
        if form.is_valid():
            try:
                correct_petitioner(
                    actor=user,
                    petitioner=petitioner,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(str(exc)) from None
            else:
                messages.success(request, _("The file was corrected."))
                return _redirect_to_person(petitioner)
    context = {
        "petitioner": petitioner,
        "form": form,
        "may_correct": may_correct,
        "history": _file_history(petitioner),
    }
    return render(request, "intake/correct.html", context)


# --- the receipt --------------------------------------------------------------------------------


def query_code_cache_key(user_id: int, session_key: str, case_id: int) -> str:
    # The session key hashed (it is the session's credential), with the user: another session,
    # or this one after a logout, never finds the code.
    digest = hashlib.sha256(session_key.encode()).hexdigest()
    return f"intake:query-code:{user_id}:{digest}:{case_id}"


def _query_code_key(request: HttpRequest, case_id: int) -> str | None:
    session_key = request.session.session_key
    if not session_key or request.user.pk is None:
        return None
    return query_code_cache_key(request.user.pk, session_key, case_id)


def keep_query_code(request: HttpRequest, case_id: int, code: str) -> None:
    """Keep a new case's query code, which exists in clear only when it is made, for this
    session's receipt: in the cache (server side, like the session), for the session's lifetime,
    so the registration needs no session write (issue 10). Without a session key (not logged in
    through a session), in the session itself."""
    key = _query_code_key(request, case_id)
    if key is not None:
        cache.set(key, code, timeout=settings.SESSION_COOKIE_AGE)
        return
    codes = dict(request.session.get(SESSION_QUERY_CODES, {}))
    codes[str(case_id)] = code
    request.session[SESSION_QUERY_CODES] = dict(list(codes.items())[-SESSION_QUERY_CODES_KEPT:])


def kept_query_code(request: HttpRequest, case_id: int) -> str | None:
    """The query code keep_query_code kept for this session's receipt of the case, if any."""
    key = _query_code_key(request, case_id)
    code = cache.get(key) if key is not None else None
    return code or request.session.get(SESSION_QUERY_CODES, {}).get(str(case_id))


@login_required
@never_cache
@require_http_methods(["GET"])
def receipt(request: HttpRequest, case_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = get_case_for(user, case_id)
    query_code = kept_query_code(request, case.pk)
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
