"""Issue #10: the case page's "可执行操作" lists only what this user may do now, each a working link
or button (petitions.actions, with the providers of routing, supervision and the apps above)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import DepartmentKind
from petitions.actions import Action, case_actions, registered_providers
from petitions.testing import register
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    return_assignment,
    sign_for_assignment,
    transfer_case,
)
from supervision.services import (
    assign_leader_responsibility,
    issue_supervision_order,
    request_extension,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "reception",
    "triage",
    "police",
    "court",
    "head",
    "supervisor",
    "leader",
    "archivist",
    "admin",
    "province_supervisor",
    "county_triage",
]


def _assign(org, cast, case):
    city = org.city
    return assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(city, DepartmentKind.POLICE), timezone.now() + timedelta(days=60)
        ),
        assisting=[
            DepartmentDue(org.dept(city, DepartmentKind.COURT), timezone.now() + timedelta(days=30))
        ],
    )


@pytest.fixture
def cases(org, cast):
    """One case in each state the actions depend on."""
    out = {"registered": register(cast["reception"]).case}
    out["assigned"] = register(cast["reception"]).case
    _assign(org, cast, out["assigned"])
    out["signed"] = register(cast["reception"]).case
    lead, assist = _assign(org, cast, out["signed"])
    sign_for_assignment(actor=cast["police"], assignment=lead)
    sign_for_assignment(actor=cast["court"], assignment=assist)
    out["handling"] = register(cast["reception"]).case
    lead, _assist = _assign(org, cast, out["handling"])
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    out["handling_supervised"] = register(cast["reception"]).case
    lead, _assist = _assign(org, cast, out["handling_supervised"])
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    case = out["handling_supervised"]
    request_extension(actor=cast["police"], case=case, days=10, reason="需调取卷宗")
    issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="十日内报告办理进展",
        due_at=timezone.now() + timedelta(days=10),
    )
    assign_leader_responsibility(
        actor=cast["supervisor"],
        case=case,
        leader=cast["leader"],
        handler=cast["police"],
        due_at=timezone.now() + timedelta(days=30),
        target_result="息诉罢访",
    )
    out["returned"] = register(cast["reception"]).case
    lead, _assist = _assign(org, cast, out["returned"])
    return_assignment(actor=cast["police"], assignment=lead, reason="不属于本单位管辖")
    out["transferred"] = register(cast["reception"]).case
    transfer_case(
        actor=cast["triage"], case=out["transferred"], to_center=org.county_a, reason="属地管辖"
    )
    for case in out.values():
        case.refresh_from_db()
    return out


def _check_action(client, action: Action, checked: set[tuple[str, str]]) -> None:
    path, _, fragment = action.url.partition("#")
    if (action.method, action.url) in checked:
        return
    checked.add((action.method, action.url))
    if action.method == "get":
        response = client.get(path)
        assert response.status_code == 200, (action, response.status_code)
        if fragment:
            assert f'id="{fragment}"' in response.content.decode(), (action, "no #" + fragment)
        return
    # a one-click button: it must do its thing and land on a page that answers 200; undone after
    with transaction.atomic():
        response = client.post(path, follow=True)
        assert response.status_code == 200, (action, response.status_code)
        assert response.redirect_chain, (action, "a POST action redirects after doing its work")
        transaction.set_rollback(True)


def test_providers_of_the_apps_above_are_registered():
    modules = {p.__module__ for p in registered_providers()}
    assert {"routing.actions", "supervision.actions"} <= modules


def test_every_listed_action_works_for_every_role_in_every_state(client, cast, cases):
    seen: set[str] = set()
    for role in ROLES:
        user = cast[role]
        client.force_login(user)
        checked: set[tuple[str, str]] = set()
        for state, case in cases.items():
            response = client.get(f"/cases/{case.pk}/")
            if response.status_code == 404:
                continue  # not visible to this user
            assert response.status_code == 200
            html = response.content.decode()
            section = html[html.index('data-testid="case-actions"') :]
            section = section[: section.index("</section>")]
            items = re.findall(r"<li data-action[^>]*>(.*?)</li>", section, re.S)
            actions = response.context["actions"]
            assert len(items) == len(actions)
            for item, action in zip(items, actions, strict=True):
                # each listed action is a link or a button, never a bare label
                assert "<a " in item or "<button" in item, (role, state, item)
                _check_action(client, action, checked)
                seen.add(action.name)
    # the scenario covers the department, screening and supervision actions
    assert {
        "routing.assign",
        "routing.confirm",
        "routing.sign_for",
        "routing.accept",
        "routing.return",
        "routing.contribution",
        "routing.reassign",
        "supervision.decide_extension",
        "supervision.respond_order",
        "supervision.order",
        "supervision.resolve_responsibility",
    } <= seen


def names(user, case) -> list[str]:
    return [a.name for a in case_actions(user, case)]


def test_only_what_the_user_may_do_now(cast, cases):
    assert "routing.assign" in names(cast["triage"], cases["registered"])
    assert names(cast["reception"], cases["registered"]) == []
    assert names(cast["archivist"], cases["handling"]) == []
    # the department signs for what it was assigned, and nothing else
    assert "routing.sign_for" in names(cast["police"], cases["assigned"])
    assert "routing.sign_for" not in names(cast["police"], cases["signed"])
    assert "routing.accept" in names(cast["police"], cases["signed"])
    assert "routing.accept" not in names(cast["court"], cases["signed"])  # assisting
    assert "supervision.extension" in names(cast["police"], cases["handling"])
    assert "supervision.extension" not in names(cast["police"], cases["handling_supervised"])
    assert names(cast["justice"], cases["handling"]) == []
    # the sending center reads a transferred case; the receiving center screens it
    assert names(cast["triage"], cases["transferred"]) == []
    assert "routing.assign" in names(cast["county_triage"], cases["transferred"])
    # a state name is never listed as if it were an action
    for user in cast.values():
        for case in cases.values():
            for action in case_actions(user, case):
                assert action.url.startswith("/") and str(action.label)


def test_an_archived_file_offers_no_supervision_overlay(cast, cases):
    """The archived file is read-only (closure): 责任倒查, 通报 and the other overlays would be
    refused, so they are not offered as if they worked."""
    from petitions.models import Case
    from petitions.states import CaseState

    case = next(iter(cases.values()))
    before = {a.name for a in case_actions(cast["supervisor"], case)}
    assert "supervision.finding" in before  # offered while the file is not archived
    Case.objects.filter(pk=case.pk).update(state=CaseState.ARCHIVED)
    case.refresh_from_db()
    after = {a.name for a in case_actions(cast["supervisor"], case)}
    assert not {n for n in after if n.startswith("supervision.")}
