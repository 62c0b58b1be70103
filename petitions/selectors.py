"""The one place that decides which cases a user may see (STYLE.md: reads take the viewer).

- A center's staff see their center's cases and, read-only, those of every center below it, plus
  cases their center transferred away (to follow the outcome).
- Department staff see the cases assigned to their department, nothing of their neighbours'.
- Not-yours and not-found are the same 404 (``get_case_for``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.models import User
from core.roles import CENTER_ROLES, DEPARTMENT_ROLES, Role
from core.selectors import visible_center_ids

from . import hooks
from .models import Case, FileLookup, Petitioner


def visible_cases_q(user: User) -> Q | None:
    """The visibility condition as a Q on Case, or None when the user sees everything."""
    if user.is_superuser:
        return None
    if not user.is_authenticated or user.center_id is None:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    roles = user.role_codes
    if roles & CENTER_ROLES:
        center_ids = visible_center_ids(user)  # from the organisation cache, no query
        condition |= Q(center_id__in=center_ids)
        # Cases these centers may read beyond their own subtree: apps above petitions provide
        # them (petitions.hooks), e.g. routing: the cases a center transferred away (to follow the
        # outcome); appeals: the cases a center reviews. Fetched as one (short) id list, the
        # providers' queries UNIONed, rather than an EXISTS in the OR, so the list pages keep
        # using the (center, registered_at) indexes at a million cases.
        providers = hooks.visibility_providers()
        if providers:
            extra_ids = providers[0](center_ids)
            for provider in providers[1:]:
                extra_ids = extra_ids.union(provider(center_ids))
            moved_out = list(extra_ids)
            if moved_out:
                condition |= Q(pk__in=moved_out)
    for user_provider in hooks.user_visibility_providers():
        ids = user_provider(user)
        if ids is not None:
            condition |= Q(pk__in=ids)
    if roles & DEPARTMENT_ROLES and user.department_id:
        # Department staff: the cases their department is (or was) assigned, a condition the
        # app that assigns provides (routing), correlated on the case row.
        for department_condition in hooks.department_conditions():
            condition |= department_condition(user.department_id)
    return condition


def cases_visible_to(user: User) -> QuerySet[Case]:
    qs = Case.objects.all()
    condition = visible_cases_q(user)
    return qs if condition is None else qs.filter(condition)


# What a list row shows of a case (case_list_for and the rows fetched by id below).
LIST_RELATIONS = ("center", "channel", "purpose", "category", "main_petitioner")


def case_list_for(user: User) -> QuerySet[Case]:
    """Visible cases with what list pages show, in a constant number of queries."""
    return cases_visible_to(user).select_related(*LIST_RELATIONS)


def person_cases_for(user: User, petitioner: Petitioner, limit: int = 50) -> list[Case]:
    """The person's cases (any role on them) the user may see, newest first, at most ``limit``,
    with what list pages show. Ids first, by a narrow query on the person's links and the
    visibility condition, then the rows by primary key: the same filter on case_list_for()
    joined six relations onto a table with many indexes, and PostgreSQL spent most of the time
    planning it (issue 10: 13 ms planning against 0.3 ms running at 100,000 cases). Queries:
    the visibility condition's, then two, whatever the number of cases."""
    ids = list(cases_linking(user, petitioner).values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    rows = Case.objects.select_related(*LIST_RELATIONS).in_bulk(ids)
    return [rows[pk] for pk in ids]


def get_case_for(user: User, pk: int | str) -> Case:
    """A visible case or Http404, whether it does not exist or is not the user's to see."""
    try:
        return (
            case_list_for(user).select_related("organ", "registered_by", "origin_center").get(pk=pk)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404("No such case") from None


def attach_cached_relations(
    obj: Any, codes: dict[str, type[Any]], centers: tuple[str, ...] = ()
) -> None:
    """Set ``obj``'s code-table and center relations from the in-process caches
    (petitions.codetables, core.orgcache) instead of joining them; a row not cached (an inactive
    code) is left to load as before."""
    from core.orgcache import center_by_pk

    from .codetables import active_by_pk

    meta = obj._meta
    for name, model in codes.items():
        field = meta.get_field(name)
        value = getattr(obj, field.attname)
        row = active_by_pk(model, value) if value is not None else None
        if row is not None:
            field.set_cached_value(obj, row)
    for name in centers:
        field = meta.get_field(name)
        value = getattr(obj, field.attname)
        center = center_by_pk(value) if value is not None else None
        if center is not None:
            field.set_cached_value(obj, center)


def get_case_page_for(user: User, pk: int | str) -> tuple[Case, list[Any]]:
    """``get_case_for`` for the case page, with the case's assignments (oldest first, with
    department and handler: the page shows them and its action providers decide on them). The
    same visibility in fewer and narrower queries: the row is read by primary key with its
    petitioner and registrar only; its centers come from the organisation cache and its
    code-table rows from the code-table cache (both dropped on change). A case held by one of a
    center user's visible centers, or assigned to a department user's department (the usual
    cases), needs no visibility query; any other is checked by the full condition (transfers out,
    reviews)."""
    from .models import Channel, ContentCategory, Organ, Purpose

    try:
        case = Case.objects.select_related("main_petitioner", "registered_by").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404("No such case") from None
    # The assigning app (routing) provides them through petitions.hooks.
    assignments = hooks.case_assignments(case.pk)
    if not user.is_superuser:
        # The first two clauses of visible_cases_q, decided on rows already in hand; everything
        # else (no center, transfers out, reviews) goes through visible_cases_q itself.
        roles = user.role_codes if user.center_id is not None else frozenset()
        plainly_visible = bool(roles & CENTER_ROLES) and case.center_id in visible_center_ids(user)
        if not plainly_visible and roles & DEPARTMENT_ROLES and user.department_id:
            plainly_visible = any(a.department_id == user.department_id for a in assignments)
        if not plainly_visible and not cases_visible_to(user).filter(pk=case.pk).exists():
            raise Http404("No such case")
    attach_cached_relations(
        case,
        {"channel": Channel, "purpose": Purpose, "category": ContentCategory, "organ": Organ},
        centers=("center", "origin_center"),
    )
    return case, assignments


def can_act_on(user: User, case: Case) -> bool:
    """Center staff act only on their own center's cases (subordinates are read-only)."""
    return user.is_superuser or (user.center_id is not None and case.center_id == user.center_id)


# How long an exact lookup at the desk keeps the person's file open to the user who made it
# (the visit, the registration and the receipt; a working day at most).
LOOKUP_GRANT = timedelta(hours=8)


def may_look_up_anyone(user: User) -> bool:
    """Front-desk staff identify a person by an exact ID number or name + phone number, whoever
    holds their file (DOMAIN.md §3, 一人一档); everyone else searches only among the people on
    cases they may see."""
    return user.is_superuser or user.has_role(Role.RECEPTION, Role.TRIAGE)


def petitioners_visible_to(user: User) -> QuerySet[Petitioner]:
    """Petitioner files a user may open: the people on a case the user may see
    (``cases_visible_to``), and for front-desk staff the people they registered themselves or
    found by an exact lookup in the last ``LOOKUP_GRANT`` (petitions.services.
    record_file_lookups). Not-yours is not-found."""
    if user.is_superuser:
        return Petitioner.objects.all()
    if not user.is_authenticated:
        return Petitioner.objects.none()
    # From the person's links to their cases (index on petitioner), each case checked by pk.
    condition = Q(
        Exists(cases_visible_to(user).filter(case_petitioners__petitioner_id=OuterRef("pk")))
    )
    if may_look_up_anyone(user):
        # The person this user registered, and the people this user found by an exact lookup.
        condition |= Q(created_by=user)
        condition |= Q(
            Exists(
                FileLookup.objects.filter(
                    user=user,
                    petitioner_id=OuterRef("pk"),
                    at__gte=timezone.now() - LOOKUP_GRANT,
                )
            )
        )
    return Petitioner.objects.filter(condition)


def cases_linking(user: User, petitioner: Petitioner) -> QuerySet[Case]:
    """The cases of a person (any role on them) that the user may see, newest first."""
    return (
        cases_visible_to(user)
        .filter(case_petitioners__petitioner=petitioner)
        .order_by("-registered_at", "-pk")
    )
