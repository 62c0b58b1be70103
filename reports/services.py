"""Write paths of the reports app: ledger export jobs, and law-enforcement suggestions (执法建议)
with the departments' responses. One function per change (STYLE.md); views, API and the Celery
task call them."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dbrouter import replica_rows
from core.errors import DomainError, PermissionDenied
from core.models import Center, Department, User
from core.roles import Role
from petitions.models import Case
from petitions.selectors import cases_visible_to

from . import conf
from .filters import CHINA_TZ, ReportFilterForm, may_view_reports, parse_filters
from .ledger import (
    STATE_CHOICES,
    CsvWriter,
    LedgerWriter,
    XlsxWriter,
    column_errors,
    ledger_cases,
    ledger_rows,
    log_full_id_exports,
)
from .models import (
    EnforcementSuggestion,
    ExportFormat,
    ExportJob,
    ExportState,
    SuggestionState,
    export_storage,
)

logger = logging.getLogger(__name__)
SUGGESTION_ISSUER_ROLES = (Role.SUPERVISOR, Role.LEADER)
SUGGESTION_RESPONDER_ROLES = (Role.HEAD,)


# --- ledger exports --------------------------------------------------------------------------------


def _query(filters: dict[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in filters.items():
        if key == "state":
            query.setlist(
                "state", [str(v) for v in (value if isinstance(value, list) else [value])]
            )
        elif value is not None:
            query[key] = str(value)
    return query


class InvalidExport(Exception):  # noqa: N818 - reads as the error it is
    """Field errors of an export request: {field: [messages]}, filters nested under "filters"
    (API: 400 with this body; page: messages)."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(str(errors))
        self.errors = errors

    def messages(self) -> list[str]:
        out: list[str] = []
        for value in self.errors.values():
            if isinstance(value, dict):
                out += [str(m) for msgs in value.values() for m in msgs]
            else:
                out += [str(m) for m in value]
        return out


# The keys an export's "filters" may hold: the report filters under their query names (the
# form reads from/to as date_from/date_to) and the ledger's state filter.
FILTER_KEYS = frozenset(
    {"from", "to", "state"} | (set(ReportFilterForm.base_fields) - {"date_from", "date_to"})
)


def validate_export(
    *, actor: User, filters: dict[str, Any], columns: Sequence[str], fmt: str
) -> dict[str, Any]:
    """Field errors of an export request, as {field: [messages]} (empty when valid). Raises
    Http404 for a center outside the actor's scope (via parse_filters)."""
    errors: dict[str, Any] = {}
    if not may_view_reports(actor):
        raise PermissionDenied(_("Ledgers are for supervisors, leaders and archivists."))
    if fmt not in ExportFormat.values:
        errors["format"] = [_("Choose xlsx or csv.")]
    column_problems = column_errors(list(columns), actor)
    if column_problems:
        errors["columns"] = column_problems
    unknown = sorted(str(k) for k in filters if k not in FILTER_KEYS)
    if unknown:
        # a misspelt filter would otherwise export more than was asked for (issue 18 #12b)
        errors["filters"] = {k: [_("Unknown field.")] for k in unknown}
        return errors
    parsed, form = parse_filters(_query(filters), user=actor)
    if parsed is None:
        errors["filters"] = {
            {"date_from": "from", "date_to": "to"}.get(k, k): [str(m) for m in v]
            for k, v in form.errors.items()
        }
    states = _states(filters)
    if any(s not in dict(STATE_CHOICES) for s in states):
        errors.setdefault("filters", {})["state"] = [_("Select a valid choice.")]
    return errors


def _states(filters: dict[str, Any]) -> list[str]:
    raw = filters.get("state") or []
    return [str(s) for s in (raw if isinstance(raw, list) else [raw]) if s]


def job_queryset(job: ExportJob) -> QuerySet[Case]:
    owner = job.owner
    parsed, _form = parse_filters(_query(job.filters), user=owner)
    if parsed is None:  # the owner's scope changed since: export nothing rather than guess
        return Case.objects.none()
    # The same selector as the ledger page: what the owner saw on screen is what the file holds.
    return ledger_cases(viewer=owner, filters=parsed, states=_states(job.filters))


def start_export(
    *, actor: User, filters: dict[str, Any], columns: Sequence[str], fmt: str
) -> ExportJob:
    """Create the job; small ledgers are written at once, large ones queued for the worker."""
    errors = validate_export(actor=actor, filters=filters, columns=columns, fmt=fmt)
    if errors:
        raise InvalidExport(errors)
    job = ExportJob.objects.create(
        owner=actor, format=fmt, columns=list(columns), filters=dict(filters)
    )
    total = job_queryset(job).count()
    ExportJob.objects.filter(pk=job.pk).update(total_rows=total)
    job.total_rows = total
    if total <= conf.inline_export_max_rows():
        run_export(job.pk)
        job.refresh_from_db()
    else:
        from .tasks import export_ledger

        transaction.on_commit(lambda: export_ledger.delay(job.pk))
    return job


def _file_name(job: ExportJob) -> str:
    stamp = timezone.now().astimezone(CHINA_TZ).strftime("%Y%m%d-%H%M%S")
    return f"{_('Ledger')}-{stamp}-{job.pk}.{job.format}"


def run_export(job_id: int) -> None:
    """Write the file of a pending job (the Celery task and small requests call this).

    Claims the job with a guarded UPDATE (a second delivery of the task does nothing), streams
    the rows to a temporary file next to the final one and moves it into place, updating
    ``rows_written`` once per chunk in autocommit so the progress bar moves."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.PENDING).update(
        state=ExportState.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    root = conf.export_root()
    folder = root / f"{job.owner_id}"
    folder.mkdir(parents=True, exist_ok=True)
    name = _file_name(job)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=f".{job.format}.part")
    os.close(fd)
    tmp_path = folder / os.path.basename(tmp)
    chunk = conf.export_chunk()
    try:
        writer: LedgerWriter
        if job.format == ExportFormat.XLSX:
            writer = XlsxWriter(tmp_path, job.columns, title=_("Ledger"))
        else:
            writer = CsvWriter(tmp_path, job.columns)
        full_ids = "id_number_full" in job.columns
        pending_log: list[tuple[int, int]] = []
        written = 0
        # The rows from the replica when one is configured (core.dbrouter): the progress
        # counter and the full-ID log written between chunks do not bear on what is read.
        rows = ledger_rows(job_queryset(job), job.columns, chunk_size=chunk)
        for case_id, petitioner_id, values in replica_rows(rows):
            writer.write(values)
            written += 1
            if full_ids:
                pending_log.append((case_id, petitioner_id))
            if written % chunk == 0:
                if pending_log:
                    log_full_id_exports(job.owner, pending_log)
                    pending_log = []
                ExportJob.objects.filter(pk=job.pk).update(rows_written=written)
        writer.close()
        if pending_log:
            log_full_id_exports(job.owner, pending_log)
        final = folder / f"{job.pk}.{job.format}"
        os.replace(tmp_path, final)
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.DONE,
            rows_written=written,
            total_rows=max(written, job.total_rows) if written else 0,
            file=str(final.relative_to(root)),
            file_name=name,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        logger.exception("export %s failed", job_id)
        tmp_path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )


def exports_of(user: User) -> QuerySet[ExportJob]:
    """A user's own export jobs (another user's job is 404: not found)."""
    return ExportJob.objects.filter(owner=user)


def open_export(job: ExportJob) -> Any:
    return export_storage.open(job.file.name, "rb")


# --- law-enforcement suggestions ---------------------------------------------------------------


def _next_suggestion_number(center: Center, year: int) -> str:
    # The center row is locked by the caller: numbers of one center are taken one at a time.
    count = EnforcementSuggestion.objects.filter(center=center, issued_at__year=year).count()
    return _("Enforcement suggestion [%(year)s] No. %(n)s") % {"year": year, "n": count + 1}


def issue_suggestion(
    *,
    actor: User,
    department: Department,
    title: str,
    problems: str,
    suggestions: str,
    response_due: date,
    cases: Sequence[Case] = (),
) -> EnforcementSuggestion:
    """The center sends a department of its own a written suggestion about its law enforcement."""
    if not (actor.is_superuser or actor.has_role(*SUGGESTION_ISSUER_ROLES)):
        raise PermissionDenied(_("Suggestions are issued by supervisors and leaders."))
    if actor.center_id is None or department.center_id != actor.center_id:
        raise PermissionDenied(_("A center sends suggestions to its own departments only."))
    errors: dict[str, list[str]] = {}
    for field, value in (("title", title), ("problems", problems), ("suggestions", suggestions)):
        if not value.strip():
            errors[field] = [_("This field is required.")]
    now = timezone.now()
    if response_due < now.astimezone(CHINA_TZ).date():
        errors["response_due"] = [_("The response date is in the past.")]
    visible = cases_visible_to(actor)
    if cases and visible.filter(pk__in=[c.pk for c in cases]).count() != len(set(cases)):
        errors["cases"] = [_("Select a valid choice.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        center = Center.objects.select_for_update().get(pk=actor.center_id)
        suggestion = EnforcementSuggestion(
            center=center,
            department=department,
            number=_next_suggestion_number(center, now.astimezone(CHINA_TZ).year),
            title=title.strip(),
            problems=problems.strip(),
            suggestions=suggestions.strip(),
            response_due=response_due,
            issued_by=actor,
            issued_at=now,
        )
        suggestion._history_user = actor  # type: ignore[attr-defined]
        suggestion.save()
        if cases:
            suggestion.cases.set(cases)
        _notify(
            center=department.center,
            department=department,
            role=Role.HEAD,
            title=suggestion.number,
            body=_("Law-enforcement suggestion: %(title)s; respond by %(due)s")
            % {"title": suggestion.title, "due": response_due.isoformat()},
            at=now,
        )
    return suggestion


def _notify(
    *,
    center: Center,
    department: Department | None,
    role: str,
    title: str,
    body: str,
    at: datetime,
) -> None:
    """An in-app message (and e-mail) as an outbox row in this transaction (clocks.notify)."""
    from clocks.models import Notification, NotificationKind
    from clocks.notify import kick_delivery

    # No case: the inbox shows the title, so it carries the whole message.
    Notification.objects.create(
        kind=NotificationKind.EVENT,
        title=f"{title} {body}"[:200],
        body=body,
        created_at=at,
        audience_center=center,
        audience_department=department,
        audience_role=role,
    )
    kick_delivery()


def respond_to_suggestion(
    *, actor: User, suggestion: EnforcementSuggestion, response: str
) -> EnforcementSuggestion:
    """The department head answers in writing: what was found and what was changed."""
    if not (actor.is_superuser or actor.has_role(*SUGGESTION_RESPONDER_ROLES)):
        raise PermissionDenied(_("The department head answers a suggestion."))
    if not actor.is_superuser and actor.department_id != suggestion.department_id:
        raise PermissionDenied(_("Only the department the suggestion was sent to answers it."))
    if not response.strip():
        raise ValidationError({"response": [_("Write the response.")]})
    with transaction.atomic():
        locked = EnforcementSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.state != SuggestionState.SENT:
            raise DomainError(_("This suggestion has already been answered."), "answered")
        locked.state = SuggestionState.RESPONDED
        locked.response = response.strip()
        locked.responded_by = actor
        locked.responded_at = timezone.now()
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["state", "response", "responded_by", "responded_at"])
        _notify(
            center=locked.center,
            department=None,
            role=Role.SUPERVISOR,
            title=locked.number,
            body=_("%(department)s responded to the law-enforcement suggestion")
            % {"department": locked.department.name},
            at=locked.responded_at,
        )
    return locked


def suggestions_visible_to(user: User) -> QuerySet[EnforcementSuggestion]:
    """Center staff with report roles see the suggestions of their centers (and below);
    department staff see the ones sent to their department."""
    from core.selectors import centers_visible_to

    qs = EnforcementSuggestion.objects.select_related("center", "department", "issued_by")
    if user.is_superuser:
        return qs
    if may_view_reports(user):
        return qs.filter(center__in=centers_visible_to(user))
    if user.department_id and user.has_role(Role.HEAD, Role.OFFICER):
        return qs.filter(department_id=user.department_id)
    return qs.none()


def is_overdue(suggestion: EnforcementSuggestion, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return suggestion.state == SuggestionState.SENT and (
        suggestion.response_due < now.astimezone(CHINA_TZ).date()
    )
