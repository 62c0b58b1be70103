"""The demo's users and the work waiting for them (issue 17 §3): after ``seed_demo --cases N``
every demo user, at every level, logs in and finds a case in their own queue or inbox; a county
case is reviewed at the city and re-reviewed at the province by different people; seeding again
changes nothing."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client

from appeals.models import ReviewKind, ReviewRequest
from core.models import Center, User, UserRole
from core.reference_data import ensure_reference_data
from core.roles import Role
from demo.organisation import (
    COUNTY_CENTERS,
    DEMO_CENTER,
    DEMO_CENTERS,
    DEMO_PASSWORD,
    DEMO_USERS,
    PROVINCE_CENTER,
)
from demo.worklist import KEY_PREFIX, MATTERS, SLOTS
from petitions.models import Case
from petitions.states import CaseState

pytestmark = pytest.mark.django_db
CENTER_CODES = [code for code, _name, _level, _parent in DEMO_CENTERS]


@pytest.fixture(autouse=True)
def reference_data(db: None) -> None:
    ensure_reference_data()


def seed(cases: int = 20) -> str:
    out = io.StringIO()
    call_command("seed_demo", cases=cases, seed=3, batch=64, no_campaigns=True, stdout=out)
    return out.getvalue()


def slot_cases() -> dict[tuple[str, str], Case]:
    """(center region code, slot) → the worklist's case."""
    found = {}
    for case in Case.objects.filter(submission_key__startswith=KEY_PREFIX):
        code, slot = case.submission_key.removeprefix(KEY_PREFIX).split(":", 1)
        found[(code, slot)] = case
    return found


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def expected_work(username: str, slots: dict[tuple[str, str], Case]) -> list[tuple[str, str, str]]:
    """(page, section data-testid or "", case number) that must be on the user's pages."""
    spec = DEMO_USERS[username]
    code, role = spec.center, spec.roles[0]

    def number(slot: str, center: str = code) -> str:
        return slots[(center, slot)].number

    if role == Role.RECEPTION:  # a delivered reply to evaluate, a review request to record
        return [("/cases/?state=replied", "", number("replied"))]
    if role == Role.TRIAGE:
        return [
            ("/triage/", "", number("registered")),
            ("/triage/?tab=returned", "", number("returned")),
        ]
    if role == Role.ARCHIVIST:
        return [("/cases/?state=closed", "", number("closed"))]
    if role == Role.OFFICER:
        kind = spec.department
        return [
            ("/inbox/", "", number(f"assigned-{kind}")),
            ("/closure/inbox/", "inbox-to-draft", number(f"handling-{kind}")),
            ("/closure/inbox/", "inbox-visits", number(f"return-visit-{kind}")),
        ]
    if role == Role.HEAD:
        kind = spec.department
        return [
            ("/closure/inbox/", "inbox-to-approve", number(f"submitted-{kind}")),
            ("/closure/inbox/", "inbox-visits", number(f"return-visit-{kind}")),
        ]
    if role in (Role.SUPERVISOR, Role.LEADER):
        reviews, terminations = "waiting-reviews", "waiting-terminations"
        work = [("/appeals/", terminations, number("termination-proposed"))]
        if code == DEMO_CENTER:  # the counties' reviews
            work += [("/appeals/", reviews, number("review", c)) for c in COUNTY_CENTERS]
        if code == PROVINCE_CENTER:  # the city's and its own reviews, every re-review, approvals
            work += [("/appeals/", reviews, number("review", c)) for c in (DEMO_CENTER, code)]
            # Art 36: the counties' re-reviews are decided here (reviewed at the city); the
            # city's and its own (reviewed here) are forwarded upward, their outcome recorded here
            work += [("/appeals/", reviews, number("re-review", c)) for c in COUNTY_CENTERS]
            work += [
                ("/appeals/", "waiting-forwarded", number("re-review", c))
                for c in (DEMO_CENTER, code)
            ]
            work += [
                ("/appeals/", terminations, number("termination-reviewed", c)) for c in CENTER_CODES
            ]
        return work
    assert role == Role.ADMIN
    return [("/admin/", "", "")]


def test_every_demo_user_finds_work_in_their_queue_on_first_login():
    seed()
    slots = slot_cases()
    assert len(slots) == len(SLOTS) * len(CENTER_CODES)
    missing = []
    for username in DEMO_USERS:
        client = Client()
        login = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert login.status_code == 302, f"{username} could not log in"
        pages: dict[str, str] = {}
        for url, testid, number in expected_work(username, slots):
            if url not in pages:
                response = client.get(url)
                assert response.status_code == 200, (username, url, response.status_code)
                pages[url] = response.content.decode()
            html = section(pages[url], testid) if testid else pages[url]
            if number not in html:
                missing.append(f"{username}: {number} not on {url} {testid}")
    assert not missing, "\n".join(missing)


def test_every_role_is_staffed_at_every_center_and_each_department_has_its_head():
    seed(cases=0)
    for code in CENTER_CODES:
        center = Center.objects.get(region_code=code)
        roles = Counter(UserRole.objects.filter(user__center=center).values_list("role", flat=True))
        for role in (Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST):
            assert roles[role] >= 1, (code, role)
        for kind in MATTERS:
            for role in (Role.OFFICER, Role.HEAD):
                assert User.objects.filter(
                    center=center, department__kind=kind, roles__role=role
                ).exists(), (code, kind, role)
    assert User.objects.count() == len(DEMO_USERS) == 53
    # the first demo logins keep working, at the city center
    for username in ("reception", "triage", "police", "court", "head", "supervisor", "leader"):
        assert User.objects.get(username=username).center.region_code == DEMO_CENTER


def test_review_and_re_review_by_two_distinct_users_and_every_state_at_every_level():
    """(One seeding for both: the worklist goes through the services and takes a few seconds.)"""
    seed()
    deciders = {
        code: set(
            User.objects.filter(
                center__region_code=code, roles__role__in=[Role.SUPERVISOR, Role.LEADER]
            ).values_list("pk", flat=True)
        )
        for code in (DEMO_CENTER, PROVINCE_CENTER)
    }
    assert all(len(users) >= 2 for users in deciders.values()), deciders
    slots = slot_cases()
    for code in CENTER_CODES:
        case = slots[(code, "termination-proposed")]  # went through review and re-review
        review = ReviewRequest.objects.get(case=case, kind=ReviewKind.REVIEW)
        re_review = ReviewRequest.objects.get(case=case, kind=ReviewKind.RE_REVIEW)
        assert re_review.reviewing_center.region_code == PROVINCE_CENTER
        expected = DEMO_CENTER if code in COUNTY_CENTERS else PROVINCE_CENTER
        assert review.reviewing_center.region_code == expected
        assert review.decided_by.center_id == review.reviewing_center_id
        assert re_review.decided_by.center_id == re_review.reviewing_center_id
        if code in COUNTY_CENTERS:
            # re-reviewed one level above the reviewing city (Art 36), by another person
            assert not re_review.forwarded_to
            assert review.decided_by_id != re_review.decided_by_id
        else:
            # reviewed at the province: the re-review went upward, its outcome recorded here
            assert re_review.forwarded_to and re_review.outcome_date
            assert re_review.document_number

    by_center = {
        code: set(Case.objects.filter(center__region_code=code).values_list("state", flat=True))
        for code in CENTER_CODES
    }
    for code, states in by_center.items():
        assert states == set(CaseState.values), (code, set(CaseState.values) - states)


def test_seeding_again_changes_no_user_and_adds_no_worklist_case():
    seed(cases=5)
    users = (User.objects.count(), UserRole.objects.count())
    work = Case.objects.filter(submission_key__startswith=KEY_PREFIX).count()
    output = seed(cases=5)
    assert "0 cases through the services" in output
    assert (User.objects.count(), UserRole.objects.count()) == users
    assert Case.objects.filter(submission_key__startswith=KEY_PREFIX).count() == work
    assert Case.objects.count() == work + 10
    call_command("seed_demo", no_campaigns=True, stdout=io.StringIO())
    assert Case.objects.count() == work + 10
