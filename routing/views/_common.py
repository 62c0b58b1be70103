"""What the routing pages share: role checks, the service-error mapping, tabs, pagers and the
notice just issued."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from petitions.models import Case
from petitions.selectors import can_act_on, get_case_for

from ..models import WrittenNotice
from ..selectors import get_notice_for

PAGE_SIZE = 50
QUEUE_ROLES = (Role.TRIAGE, Role.SUPERVISOR)
SCREENING_ROLES = (Role.TRIAGE,)
REASSIGN_ROLES = (Role.TRIAGE, Role.SUPERVISOR)
INBOX_ROLES = (Role.OFFICER, Role.HEAD)
ISSUED_NOTICE_SESSION_KEY = "routing_issued_notice"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every view here is behind login_required
    return user


def _require_roles(user: User, roles: tuple[str, ...], message: str) -> None:
    if not (user.is_superuser or user.has_role(*roles)):
        raise DjangoPermissionDenied(message)


def _case_at_own_center(user: User, pk: int) -> Case:
    """A case the user's center holds. Subordinate centers screen their own cases, so a case the
    user can only read is not offered here: 404, as for a case that does not exist."""
    case = get_case_for(user, pk)
    if not can_act_on(user, case):
        raise Http404("Not at your center")
    return case


def add_service_errors(
    form: forms.Form, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """A service's ValidationError onto the form: its keys onto the fields of the same name (or an
    alias), anything else as a form-wide error."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def focus_first_error(form: forms.Form) -> bool:
    """Put the keyboard focus on the first field with an error (instead of the page's default
    first field), so a user who submitted a form lands where the correction is needed."""
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    for name in form.errors:
        if name in form.fields and not form.fields[name].widget.is_hidden:
            form.fields[name].widget.attrs["autofocus"] = True
            return True
    return False


def _flash_notice(request: HttpRequest, notice: WrittenNotice) -> None:
    """Offer the notice just issued on the next page (a link to print it and its PDF)."""
    request.session[ISSUED_NOTICE_SESSION_KEY] = notice.pk


def _pop_issued_notice(request: HttpRequest, user: User) -> WrittenNotice | None:
    pk = request.session.pop(ISSUED_NOTICE_SESSION_KEY, None)
    if pk is None:
        return None
    try:
        return get_notice_for(user, pk)
    except Http404:
        return None


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@dataclass
class Tab:
    key: str
    label: Any
    count: int
    url: str
    active: bool


def _query(request: HttpRequest, **changes: str | None) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode()


@dataclass
class Pager:
    number: int
    pages: int
    previous_url: str
    next_url: str


def _pager(request: HttpRequest, number: int, pages: int) -> Pager:
    def url(n: int) -> str:
        params = request.GET.copy()
        params["page"] = str(n)
        return "?" + params.urlencode()

    return Pager(
        number=number,
        pages=pages,
        previous_url=url(number - 1) if number > 1 else "",
        next_url=url(number + 1) if number < pages else "",
    )


def _service_call(
    request: HttpRequest,
    call: Callable[[], HttpResponse],
    *,
    form: forms.Form,
    on_error: Callable[[int], HttpResponse],
    aliases: Mapping[str, str] | None = None,
) -> HttpResponse:
    """Run a service call; map its errors onto the form (400), a message (409) or a 403."""
    try:
        return call()
    except ValidationError as exc:
        add_service_errors(form, exc, aliases)
        return on_error(400)
    except StaleState as exc:
        messages.error(request, str(exc), extra_tags="stale")
        return on_error(409)
    except DomainError as exc:
        messages.error(request, str(exc))
        return on_error(409)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return on_error(403)


def _require_department(user: User) -> None:
    _require_roles(user, INBOX_ROLES, _("The inbox is for department officers and heads."))
    if not user.department_id:
        raise DjangoPermissionDenied(_("You are not attached to a department."))
