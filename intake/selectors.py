"""Reads for the front desk and the public status page. Case visibility always comes from
petitions.selectors; this module only shapes it for the desk, in a number of queries that does not
depend on how many cases a person has."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core import pii
from core.models import Center, User
from core.text import name_key
from petitions.models import Case, Petitioner
from petitions.selectors import (
    cases_visible_to,
    may_look_up_anyone,
    petitioners_visible_to,
    visible_cases_q,
)
from petitions.services import (
    check_query_code,
    hash_query_code,
    registration_warnings,
)
from petitions.states import CaseState

from .models import LeaderDuty

CASES_SHOWN = 20  # the desk shows a person's newest cases; the total is shown beside them
MATCHES_SHOWN = 20


def find_petitioners(
    user: User, *, id_number: str = "", name: str = "", phone: str = ""
) -> list[Petitioner]:
    """Exact lookup: by ID number (blind index of its canonical form, so a 15-digit resident ID
    finds the file of its 18-character form) or by name + phone (the name's search key, so
    traditional and simplified characters match; the phone by its blind index). Never a fuzzy
    search: the desk identifies a person, it does not browse people.

    Front-desk staff find anyone (the file is one per person across the province); the view
    records the lookup (petitions.services.record_file_lookups), which opens the file to them.
    Other users find only people on cases they may see."""
    base = Petitioner.objects.all() if may_look_up_anyone(user) else petitioners_visible_to(user)
    if id_number.strip():
        keys = pii.id_number_lookup_keys(id_number)
        return list(base.filter(id_number_hash__in=keys).order_by("pk")[:MATCHES_SHOWN])
    if name.strip() and phone.strip():
        return list(
            base.filter(name_key=name_key(name), phone_hash=pii.blind_index(phone)).order_by(
                "-created_at"
            )[:MATCHES_SHOWN]
        )
    return []


def get_petitioner_for(user: User, pk: int | str) -> Petitioner | None:
    try:
        return petitioners_visible_to(user).get(pk=pk)
    except (Petitioner.DoesNotExist, ValueError, TypeError):
        return None


@dataclass
class PetitionerFile:
    """What the desk shows about a person (一人一档) before registering their visit."""

    petitioner: Petitioner
    cases: list[Case]  # visible, newest first, at most CASES_SHOWN
    open_cases: list[Case]  # visible and open, newest first: offered as "repeat visit of"
    total_cases: int  # visible
    total_visits: int  # sum of visit_count over the visible cases
    hidden_cases: int  # cases of this person at centers the user cannot see (count only)
    warnings: list[str] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.total_cases > len(self.cases)


def _persons_cases(petitioner: Petitioner) -> QuerySet[Case]:
    # A person's cases are those they are linked to in any role (main, representative, member);
    # the (case, petitioner) unique constraint means the join never duplicates a case.
    return Case.objects.filter(case_petitioners__petitioner=petitioner)


def petitioner_file(user: User, petitioner: Petitioner) -> PetitionerFile:
    """A fixed number of queries whatever the number of cases: the visibility condition (built
    once, it reads the user's center subtree), totals, the newest case ids and open case ids
    (one query), their rows, warnings."""
    condition = visible_cases_q(user)
    visible = Q() if condition is None else condition
    aggregates: dict[str, Any] = {
        "total": Count("pk", filter=visible),
        "visits": Coalesce(Sum("visit_count", filter=visible), 0),
    }
    if condition is not None:
        aggregates["hidden"] = Count("pk", filter=~condition)
    totals = _persons_cases(petitioner).aggregate(**aggregates)
    # Ids first (narrow queries on the person's links and the visibility condition), then the
    # rows by primary key with their code tables: joining five relations onto the person's
    # cases made PostgreSQL spend most of the time planning (issue 10: the two lists 19-25 ms ->
    # 9 ms at 100,000 cases).
    # The newest ids and the newest open ids in one round trip (UNION ALL of the two narrow
    # queries, each tagged), ordered again in Python (at most 2 * CASES_SHOWN rows).
    listed = _persons_cases(petitioner).filter(visible).order_by("-registered_at", "-pk")
    newest = listed.annotate(is_open_list=Value(False)).values_list("pk", "is_open_list")
    newest_open = (
        listed.filter(state__in=CaseState.open_states())
        .annotate(is_open_list=Value(True))
        .values_list("pk", "is_open_list")
    )
    tagged = list(newest[:CASES_SHOWN].union(newest_open[:CASES_SHOWN], all=True))
    rows = (
        Case.objects.select_related("center", "channel", "purpose", "category__parent").in_bulk(
            {pk for pk, _open in tagged}
        )
        if tagged
        else {}
    )

    def newest_first(ids: set[int]) -> list[Case]:
        return sorted((rows[pk] for pk in ids), key=lambda c: (c.registered_at, c.pk), reverse=True)

    cases = newest_first({pk for pk, is_open in tagged if not is_open})
    open_cases = newest_first({pk for pk, is_open in tagged if is_open})
    return PetitionerFile(
        petitioner=petitioner,
        cases=cases,
        open_cases=open_cases,
        total_cases=totals["total"],
        total_visits=totals["visits"],
        hidden_cases=totals.get("hidden", 0),
        warnings=registration_warnings(petitioner),
    )


def case_registered_with_key(user: User, submission_key: str) -> Case | None:
    """The case a form with this one-time key already registered, if the user can see it."""
    if not submission_key:
        return None
    # By the key's unique index first (one query when, as nearly always, there is none), then
    # the visibility check on the case found.
    found = Case.objects.filter(submission_key=submission_key).only("pk").first()
    if found is None:
        return None
    return cases_visible_to(user).filter(pk=found.pk).first()


def leader_on_duty(center: Center | None, day: date) -> LeaderDuty | None:
    if center is None:
        return None
    return LeaderDuty.objects.filter(center=center, date=day).select_related("leader").first()


def case_for_query_code(number: str, code: str) -> Case | None:
    """The case with this number if ``code`` is its query code, else None (unknown number and
    wrong code are indistinguishable to the caller)."""
    number = "".join(number.split()).upper()
    code = code.strip()
    case = Case.objects.filter(number=number).first() if number else None
    if case is None:
        # Compare anyway, so that an unknown number and a wrong code cost the same time.
        hmac.compare_digest(hash_query_code("no-such-case"), hash_query_code(code or "-"))
        return None
    if not code or not check_query_code(case, code):
        return None
    return case
