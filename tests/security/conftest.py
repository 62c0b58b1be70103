"""A small world for the security tests (issue 11): cases at the city, at a county and in another
province, each brought along through the real services, with the objects that hang off a case
(assignments, notices, replies, reviews, extension requests, supervision orders, leader
responsibilities, exports, suggestions, attachments), and the viewers who must not see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from closure.testing import bring_to_handling, bring_to_replied
from conftest import Org, make_user
from core.models import DepartmentKind, User
from core.roles import Role
from petitions.models import Attachment, Case, Petitioner
from petitions.testing import make_petitioner, register
from routing.models import Assignment, WrittenNotice

# Words that only the world's own cases carry: an out-of-scope response must not contain them.
SECRET_REQUEST = "矩阵机密诉求"
SECRET_NAME = "秘密甲"


@dataclass
class Target:
    """One case and the ids of what hangs off it (missing ones fall back to an id that exists
    elsewhere or to the case id; the expected answer for an outsider is the same: not found)."""

    case: Case
    petitioner: Petitioner
    ids: dict[str, int] = field(default_factory=dict)
    token: str = "x" * 20
    secrets: tuple[str, ...] = ()

    def id(self, kind: str) -> int:
        return self.ids.get(kind, self.case.pk)


@dataclass
class World:
    org: Org
    cast: dict[str, User]
    city: Target
    county: Target
    other: Target
    extra_users: dict[str, User]


def _secret_case(reception: User, tag: str, **overrides: Any) -> tuple[Case, Petitioner]:
    person = make_petitioner(reception, name=f"{SECRET_NAME}{tag}", phone="13900000000")
    case = register(
        reception, petitioner=person, request=f"{SECRET_REQUEST}{tag}", **overrides
    ).case
    return case, person


def _target(case: Case, person: Petitioner, tag: str) -> Target:
    case.refresh_from_db()
    secrets = (f"{SECRET_REQUEST}{tag}", f"{SECRET_NAME}{tag}", case.number)
    target = Target(case=case, petitioner=person, secrets=secrets)
    target.ids["petitioner"] = person.pk
    assignment = Assignment.objects.filter(case=case).order_by("pk").first()
    if assignment:
        target.ids["assignment"] = assignment.pk
    notice = WrittenNotice.objects.filter(case=case).order_by("pk").first()
    if notice:
        target.ids["notice"] = notice.pk
    attachment = Attachment.objects.filter(case=case).order_by("pk").first()
    if attachment:
        target.ids["attachment"] = attachment.pk
    return target


def _attach(actor: User, case: Case) -> None:
    from petitions.services import add_attachment

    add_attachment(
        actor=actor,
        case=case,
        kind=Attachment._meta.get_field("kind").choices[0][0],
        upload=SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )


def _campaigns(org: Org, c: dict[str, User], city: Target, handling: Case, replied: Case) -> None:
    """The city's campaigns (issue 19): a backlog campaign with a matter on the case in handling
    (handed to the police department) and a sweep candidate, a quality review with the replied
    case sampled and scored, and the city's own score sheet. Their names are secrets too."""
    from campaigns.models import CampaignKind, SampledCase, SweepCandidate
    from campaigns.services import (
        assign_reviewers,
        copy_score_sheet,
        create_campaign,
        hand_down_matter,
        submit_review,
    )
    from campaigns.services.review import sheet_for

    today = timezone.localdate()
    name = f"{SECRET_REQUEST}专项市"
    campaign = create_campaign(
        actor=c["supervisor"],
        name=name,
        kind=CampaignKind.BACKLOG,
        center=org.city,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=60),
    )
    matter = hand_down_matter(
        actor=c["supervisor"],
        campaign=campaign,
        case=handling,
        department=org.dept(org.city, DepartmentKind.POLICE),
        due_on=today + timedelta(days=30),
        target_result="化解",
    )
    candidate = SweepCandidate.objects.create(campaign=campaign, case=handling, criteria_met=[])
    own_sheet = copy_score_sheet(actor=c["supervisor"], center=org.city)
    review = create_campaign(
        actor=c["supervisor"],
        name=f"{SECRET_REQUEST}评查市",
        kind=CampaignKind.QUALITY_REVIEW,
        center=org.city,
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=30),
    )
    sample = SampledCase.objects.create(
        campaign=review,
        case=replied,
        rule="random",
        department=org.dept(org.city, DepartmentKind.POLICE),
    )
    assign_reviewers(actor=c["supervisor"], sample=sample, reviewers=[c["supervisor"]])
    sheet = sheet_for(review)
    assert sheet is not None
    scored = submit_review(
        actor=c["supervisor"],
        campaign=review,
        case=replied,
        scores=[{"item": i.pk, "points": i.points, "note": ""} for i in sheet.items.all()],
    )
    city.ids.update(
        campaign=campaign.pk,
        matter=matter.pk,
        candidate=candidate.pk,
        review_campaign=review.pk,
        case_review=scored.pk,
        score_sheet=own_sheet.pk,
    )
    city.secrets += (name, f"{SECRET_REQUEST}评查市")


def _county_campaign(org: Org, c: dict[str, User], county: Target) -> None:
    """A campaign the city opened for the county (its own center), for the county's outsiders."""
    from campaigns.models import CampaignKind
    from campaigns.services import create_campaign

    today = timezone.localdate()
    campaign = create_campaign(
        actor=c["supervisor"],
        name=f"{SECRET_REQUEST}专项县",
        kind=CampaignKind.BACKLOG,
        center=org.county_a,
        starts_on=today,
        ends_on=today + timedelta(days=60),
    )
    county.ids["campaign"] = campaign.pk
    county.secrets += (f"{SECRET_REQUEST}专项县",)


def _aid(c: dict[str, User], city: Target) -> None:
    """A refused judicial aid application on the city's replied case (outreach, issue 20): its
    page, actions and written notice are the object of the aid entries."""
    from outreach.models import EligibilityQuestion  # noqa: F401  (the app is installed)
    from outreach.services.aid import apply_for_aid, decide_aid, mark_complete

    application = apply_for_aid(
        actor=c["reception"],
        case=city.case,
        applicant=city.case.main_petitioner,
        circumstance="unenforced",
        circumstances="执行不能",
        requested_amount="1000",
    )
    application = mark_complete(actor=c["reception"], application=application)
    decide_aid(actor=c["head"], application=application, decision="refuse", reasons="不符合")
    city.ids["aid"] = application.pk


def _visits(c: dict[str, User], city: Target) -> None:
    """An appointment (约访) on the city's case and a reception day of the city (outreach, issue
    20): the objects of the appointment and reception-day entries."""
    from datetime import time, timedelta

    from outreach.services.reception_days import schedule_reception_day
    from outreach.services.visits import schedule_appointment

    appointment = schedule_appointment(
        actor=c["supervisor"],
        case=city.case,
        at=timezone.now() + timedelta(days=2),
        place="接待大厅",
        expected_version=None,
    )
    city.ids["appointment"] = appointment.pk
    duty = schedule_reception_day(
        actor=c["supervisor"],
        center=city.case.center,
        leader=c["leader"],
        date=timezone.localdate() + timedelta(days=1),
        starts_at=time(9),
        ends_at=time(11),
        place="接待大厅",
    )
    city.ids["duty"] = duty.pk


def build_world(org: Org, cast: dict[str, User]) -> World:
    from appeals.services import request_review
    from reports.services import issue_suggestion, start_export
    from supervision.services.extensions import request_extension
    from supervision.services.leader import assign_leader_responsibility
    from supervision.services.orders import issue_supervision_order

    c = cast
    now = timezone.now()
    # City: one case replied and delivered (closure, then a review request), one in handling with
    # an extension request, a supervision order and a leader responsibility.
    case, person = _secret_case(c["reception"], "市")
    _attach(c["reception"], case)
    replied = bring_to_replied(
        reception=c["reception"],
        triage=c["triage"],
        officer=c["police"],
        head=c["head"],
        assisting_officers=(c["court"],),
        case=case,
    )
    review = request_review(actor=c["reception"], case=replied.case, kind="review", reason="不服")
    city = _target(replied.case, person, "市")
    city.token = replied.token
    city.ids["review"] = review.pk

    handling, person2 = _secret_case(c["reception"], "市二")
    handling = bring_to_handling(
        reception=c["reception"], triage=c["triage"], officer=c["police"], case=handling
    )
    extension = request_extension(actor=c["police"], case=handling, days=10, reason="需要调查")
    order = issue_supervision_order(
        actor=c["supervisor"],
        case=handling,
        requirement="限期办结",
        due_at=now + timedelta(days=5),
        department=org.dept(org.city, DepartmentKind.POLICE),
    )
    responsibility = assign_leader_responsibility(
        actor=c["supervisor"],
        case=handling,
        leader=c["leader"],
        handler=c["police"],
        due_at=now + timedelta(days=20),
        target_result="息诉罢访",
    )
    city.ids.update(
        extension=extension.pk,
        order=order.pk,
        responsibility=responsibility.pk,
        staff=c["police"].pk,
    )
    city.secrets += (f"{SECRET_REQUEST}市二", f"{SECRET_NAME}市二", handling.number)
    export = start_export(actor=c["supervisor"], filters={}, columns=["number"], fmt="csv")
    city.ids["export"] = export.pk
    suggestion = issue_suggestion(
        actor=c["supervisor"],
        department=org.dept(org.city, DepartmentKind.POLICE),
        title="执法建议",
        problems="问题",
        suggestions="建议",
        response_due=(now + timedelta(days=30)).date(),
        cases=[handling],
    )
    city.ids["suggestion"] = suggestion.pk
    _campaigns(org, c, city, handling, replied.case)
    _aid(c, city)
    _visits(c, city)

    # County A: registered and in handling at the county police.
    county_case, county_person = _secret_case(c["county_reception"], "县")
    _attach(c["county_reception"], county_case)
    county_case = bring_to_handling(
        reception=c["county_reception"],
        triage=c["county_triage"],
        officer=c["county_police"],
        case=county_case,
    )
    county = _target(county_case, county_person, "县")
    county.ids["staff"] = c["county_police"].pk
    _county_campaign(org, c, county)

    # Another province: registered only.
    other_case, other_person = _secret_case(c["outsider"], "外")
    other = _target(other_case, other_person, "外")

    # Viewers who are out of every scope above, made last so that nothing above depends on them.
    extra = {
        "county_b_reception": make_user("county_b_reception", org.county_b, [Role.RECEPTION]),
        "county_b_triage": make_user("county_b_triage", org.county_b, [Role.TRIAGE]),
        "county_b_supervisor": make_user("county_b_supervisor", org.county_b, [Role.SUPERVISOR]),
        "county_supervisor": make_user("county_supervisor", org.county_a, [Role.SUPERVISOR]),
        "deactivated": make_user(
            "deactivated", org.city, [Role.OFFICER], org.dept(org.city, DepartmentKind.POLICE)
        ),
        "roleless": make_user(
            "roleless", org.city, [Role.OFFICER], org.dept(org.city, DepartmentKind.POLICE)
        ),
    }
    return World(org=org, cast=cast, city=city, county=county, other=other, extra_users=extra)


@pytest.fixture
def world(org: Org, cast: dict[str, User]) -> World:
    return build_world(org, cast)


def client_as(user: User | None, *, token: bool = False) -> Client:
    client = Client()
    if user is not None:
        if token:
            key = Token.objects.get_or_create(user=user)[0].key
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
        client.force_login(user)
    return client


def viewers(world: World) -> dict[str, Client]:
    """Clients for each kind of viewer. The deactivated user logged in and took a token before
    being deactivated; the roleless user lost their role while logged in."""
    c, x = world.cast, world.extra_users
    clients = {"anonymous": Client()}
    deactivated = client_as(x["deactivated"], token=True)
    User.objects.filter(pk=x["deactivated"].pk).update(is_active=False)
    clients["deactivated"] = deactivated
    roleless = client_as(x["roleless"], token=True)
    x["roleless"].set_roles([])
    clients["roleless"] = roleless
    for name in (
        "justice",
        "county_reception",
        "county_triage",
        "county_police",
        "outsider",
    ):
        clients[name] = client_as(c[name])
    clients["county_supervisor"] = client_as(x["county_supervisor"])
    for name in ("county_b_reception", "county_b_triage", "county_b_supervisor"):
        clients[name] = client_as(x[name])
    for name in ("supervisor", "triage", "police", "reception"):
        clients[name] = client_as(c[name])
    return clients
