"""The work waiting for every demo user (``seed_demo --cases N`` adds it after the bulk cases).

The bulk cases of ``demo.cases`` are history: realistic in number and spread, but written as the
rows of registration, assignment and clocks only. The steps after a written reply (the reply, its
approval and delivery, evaluations and return visits, review requests and decisions, termination
proposals) are each a service with its own rows and rules; this module brings a small fixed set
of cases at every center to each waiting point *through those services* (the one write path of
each step: role, center and state checks, history, events, clocks, notifications), so that every
demo user finds something to do on first login:

| waiting point (slot)                            | who finds it                                  |
|-------------------------------------------------|-----------------------------------------------|
| registered                                      | triage (screening queue)                      |
| assigned to each department                     | the department's officer (inbox: sign for)    |
| signed for, not accepted                        | police officer (inbox: mine)                  |
| returned with objection                         | triage (confirm the return)                   |
| accepted, no reply yet, each department         | the officer (closure inbox: to draft)         |
| reply submitted, each department                | the department's head (to approve)            |
| dissatisfied at the desk, each department       | the officer and head (return visit due)       |
| reply delivered, not evaluated                  | reception (evaluation, review request)        |
| satisfied and closed                            | archivist (archive)                           |
| review requested                                | supervisor and leader one level up            |
| re-review requested                             | a county's: supervisor and leader two levels  |
|                                                 | up (the province); the city's and province's: |
|                                                 | forwarded upward, the province records the    |
|                                                 | outcome (its supervisors and leaders)         |
| termination proposed                            | supervisor and leader of the case's center    |
| termination reviewed by the center              | supervisor and leader of the province         |
| not accepted, referred, legal procedure,        | (the remaining states, for the state filters) |
| terminated, archived                            |                                               |

A county case is reviewed at the city and re-reviewed at the province. A city case is reviewed
at the province and its re-review, one level above the province (Art 36), is forwarded upward:
the province records the outcome received (appeals.services.record_forwarded_outcome). A
province case is reviewed at the province (by someone who took no part in the reply) and its
re-review is forwarded upward in the same way.

Idempotent: each slot's case is registered with the submission key ``demo-work:<region>:<slot>``
and a slot whose case exists is skipped. Everything happens at ``timezone.now()``: every window
is open and every duty on time. About 150 cases, a few seconds, whatever N.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from appeals.services import (
    decide_review,
    decide_termination,
    propose_termination,
    record_forwarded_outcome,
    request_review,
)
from closure.services import (
    ReplyText,
    Verdict,
    approve_reply,
    archive_case,
    close_case,
    deliver_reply,
    record_evaluation,
    save_reply_draft,
)
from core.models import Center, CenterLevel, Department, DepartmentKind, User
from core.roles import Role
from demo.organisation import DEMO_CENTERS, demo_username
from petitions.models import Case, Channel, ContentCategory, Organ, Purpose
from petitions.services import CaseData, PetitionerData, register_case, upsert_petitioner
from petitions.testing import resident_id
from routing.models import Assignment, AssignmentRole
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    not_accept,
    refer_out,
    return_assignment,
    route_to_legal_procedure,
    sign_for_assignment,
)

KEY_PREFIX = "demo-work:"

# department kind → (content category, organ, the petitioner's request)
MATTERS: dict[str, tuple[str, str, str]] = {
    DepartmentKind.POLICE: (
        "police.case",
        "police",
        "反映{y}年报案后公安机关至今未立案，请求依法立案侦查。",
    ),
    DepartmentKind.PROCURATORATE: (
        "proc.noprosecute",
        "procuratorate",
        "对检察机关作出的不起诉决定不服，请求复查。",
    ),
    DepartmentKind.COURT: (
        "court.execution",
        "court",
        "请求法院依法执行（{y}）冀{c}执{n}号民事判决，督促被执行人履行给付义务。",
    ),
    DepartmentKind.JUSTICE: (
        "justice.lawyer",
        "justice",
        "反映代理律师收费后未尽代理职责，请求查处。",
    ),
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
# A county's own people come from the county; the city's and the province's from the city.
PEOPLE_REGION = {"130121": "130121", "130123": "130123"}


@dataclass
class _Center:
    center: Center
    staff: dict[str, User]  # role or "<role>:<department kind>" → user
    departments: dict[str, Department]
    reviewing: _Center | None = None  # the next level up (None: the province reviews itself)

    def user(self, role: str, kind: str | None = None) -> User:
        return self.staff[f"{role}:{kind}" if kind else role]


class _Work:
    """The steps a slot is made of, each one service call as the user whose work it is."""

    def __init__(self, at: _Center, province: _Center, key: str, kind: str) -> None:
        self.at, self.province, self.key, self.kind = at, province, key, kind
        self.rng = random.Random(key)  # the same person and texts for a slot on every database
        self.case: Case | None = None
        self.review_decider: User | None = None

    # registration and screening (intake, routing)

    def register(self) -> Case:
        rng, center = self.rng, self.at.center
        category_code, organ_code, request = MATTERS[self.kind]
        region = PEOPLE_REGION.get(center.region_code, "130102")
        year = timezone.localdate().year - rng.randint(0, 2)
        reception = self.at.user(Role.RECEPTION)
        person = upsert_petitioner(
            actor=reception,
            data=PetitionerData(
                name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
                id_number=resident_id(rng, region=region),
                phone=f"13{rng.randrange(10**9):09d}",
                address=f"河北省石家庄市{center.name[:3]}城关镇{rng.randint(1, 300)}号",
            ),
        )
        registration = register_case(
            actor=reception,
            petitioner=person,
            data=CaseData(
                channel=Channel.objects.get(code="visit"),
                purpose=Purpose.objects.get(code="appeal"),
                category=ContentCategory.objects.get(code=category_code),
                organ=Organ.objects.filter(code=organ_code).first(),
                request=request.format(y=year, c=region[2:], n=rng.randint(1, 3999)),
                facts_reasons="信访人认为处理不公，多次反映未果。",
                legal_case_number=f"（{year}）冀{region[2:]}民初{rng.randint(1, 3999)}号",
                problem_region_code=region,
            ),
            submission_key=self.key,
        )
        self.case = registration.case
        return self.case

    def _case(self) -> Case:
        assert self.case is not None
        self.case.refresh_from_db()
        return self.case

    def assign(self) -> None:

        assign_case(
            actor=self.at.user(Role.TRIAGE),
            case=self._case(),
            lead=DepartmentDue(self.at.departments[self.kind], timezone.now() + timedelta(days=15)),
        )

    def _lead(self):  # type: ignore[no-untyped-def]

        return (
            Assignment.objects.filter(case=self.case, role=AssignmentRole.LEAD)
            .order_by("-assigned_at", "-pk")
            .first()
        )

    def sign_for(self) -> None:

        sign_for_assignment(actor=self.at.user(Role.OFFICER, self.kind), assignment=self._lead())

    def accept(self) -> None:

        accept_assignment(actor=self.at.user(Role.OFFICER, self.kind), assignment=self._lead())

    def return_it(self) -> None:

        return_assignment(
            actor=self.at.user(Role.OFFICER, self.kind),
            assignment=self._lead(),
            reason="该事项不属于本单位职责范围，请重新交办。",
        )

    def not_accept(self) -> None:

        not_accept(
            actor=self.at.user(Role.TRIAGE),
            case=self._case(),
            reason="已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决。",
        )

    def refer_out(self) -> None:

        refer_out(
            actor=self.at.user(Role.TRIAGE),
            case=self._case(),
            competent_organ="当地人民政府信访部门",
            reason="不属于政法机关职责范围。",
        )

    def route_legal(self) -> None:

        route_to_legal_procedure(
            actor=self.at.user(Role.TRIAGE),
            case=self._case(),
            organ=self.at.departments[self.kind].name,
            procedure="申请再审",
            legal_case_number=self._case().legal_case_number or "（2026）冀01民申1号",
        )

    # reply, evaluation, closure (closure)

    def submit_reply(self) -> None:

        save_reply_draft(
            actor=self.at.user(Role.OFFICER, self.kind),
            case=self._case(),
            text=ReplyText(
                decision=self.rng.choice(["support", "explain", "not_support"]),
                facts_reasons="经调查核实，信访人反映的问题已依法处理，现将处理意见答复如下。",
                legal_basis="《信访工作条例》第三十二条",
            ),
            submit=True,
        )

    def approve_reply(self) -> None:

        approve_reply(actor=self.at.user(Role.HEAD, self.kind), case=self._case())

    def deliver(self) -> None:

        deliver_reply(
            actor=self.at.user(Role.OFFICER, self.kind),
            case=self._case(),
            method="in_person",
            signed=True,
        )

    def _evaluate(self, rating: str, reasons: str = "") -> None:
        record_evaluation(
            actor=self.at.user(Role.RECEPTION),
            case=self._case(),
            verdict=Verdict(center_rating=rating, department_rating=rating, reasons=reasons),
            channel="desk",
        )

    def dissatisfied(self) -> None:
        self._evaluate("dissatisfied", "问题没有解决。")  # schedules the return visit

    def satisfied(self) -> None:
        self._evaluate("satisfied")

    def close(self) -> None:
        close_case(actor=self.at.user(Role.SUPERVISOR), case=self._case(), note="已答复，结案。")

    def archive(self) -> None:
        archive_case(actor=self.at.user(Role.ARCHIVIST), case=self._case())

    # review, re-review, termination (appeals)

    def _request(self, kind: str) -> None:
        request_review(
            actor=self.at.user(Role.RECEPTION),
            case=self._case(),
            kind=kind,
            reason="信访人对答复意见不服。",
        )

    def _decide(self, reviewing: _Center) -> None:
        decider = reviewing.user(Role.SUPERVISOR)
        if self.review_decider is not None and decider.pk == self.review_decider.pk:
            decider = reviewing.user(Role.LEADER)  # barred: decided the answer under review
        decide_review(
            actor=decider,
            case=self._case(),
            decision="uphold",
            answer="经审查，原处理意见认定事实清楚，适用法律正确，予以维持。",
        )
        self.review_decider = decider

    def request_review(self) -> None:
        self._request("review")

    def decide_review(self) -> None:
        self._decide(self.at.reviewing or self.at)

    def request_re_review(self) -> None:
        self._request("re_review")

    def decide_re_review(self) -> None:
        review = self.at.reviewing or self.at
        if review.reviewing is not None:
            self._decide(review.reviewing)
            return
        # Reviewed at the province, the top of the deployment: the re-review went upward (Art
        # 36) and the province records the outcome that came back.
        case = self._case()
        record_forwarded_outcome(
            actor=self.province.user(Role.SUPERVISOR),
            case=case,
            decision="uphold",
            answer="经复核，复查意见认定事实清楚，适用法律正确，予以维持。",
            outcome_date=timezone.localdate(),
            document_number=f"中政复〔{timezone.localdate().year}〕{case.pk}号",
        )

    def propose_termination(self) -> None:
        propose_termination(
            actor=self.at.user(Role.OFFICER, self.kind),
            case=self._case(),
            grounds="已经复查、复核，法律程序已穷尽，信访人仍坚持原诉求。",
        )

    def review_termination(self) -> None:
        decide_termination(
            actor=self.at.user(Role.SUPERVISOR),
            case=self._case(),
            approve=True,
            opinion="同意报请依法终结。",
        )

    def approve_termination(self) -> None:
        decide_termination(
            actor=self.province.user(Role.SUPERVISOR),
            case=self._case(),
            approve=True,
            approving_body=self.province.center.name,
            approval_date=timezone.localdate(),
            opinion="同意依法终结。",
        )


HANDLING = ["register", "assign", "sign_for", "accept"]
DELIVERED = [*HANDLING, "submit_reply", "approve_reply", "deliver"]
RE_REVIEWED = [
    *DELIVERED,
    "request_review",
    "decide_review",
    "request_re_review",
    "decide_re_review",
]
POLICE, COURT, JUSTICE = DepartmentKind.POLICE, DepartmentKind.COURT, DepartmentKind.JUSTICE
# (slot, lead department kind, the steps: _Work methods in order). Module docstring: who waits.
SLOTS: list[tuple[str, str, list[str]]] = [
    ("registered", COURT, ["register"]),
    ("registered-2", POLICE, ["register"]),
    *(
        slot
        for kind in MATTERS
        for slot in (
            (f"assigned-{kind}", kind, ["register", "assign"]),
            (f"handling-{kind}", kind, HANDLING),
            (f"submitted-{kind}", kind, [*HANDLING, "submit_reply"]),
            (f"return-visit-{kind}", kind, [*DELIVERED, "dissatisfied"]),
        )
    ),
    ("signed", POLICE, ["register", "assign", "sign_for"]),
    ("returned", COURT, ["register", "assign", "return_it"]),
    ("replied", COURT, DELIVERED),
    ("closed", POLICE, [*DELIVERED, "satisfied", "close"]),
    ("review", COURT, [*DELIVERED, "request_review"]),
    ("re-review", POLICE, [*DELIVERED, "request_review", "decide_review", "request_re_review"]),
    ("termination-proposed", COURT, [*RE_REVIEWED, "propose_termination"]),
    ("termination-reviewed", POLICE, [*RE_REVIEWED, "propose_termination", "review_termination"]),
    ("not-accepted", POLICE, ["register", "not_accept"]),
    ("referred", JUSTICE, ["register", "refer_out"]),
    ("legal-procedure", COURT, ["register", "route_legal"]),
    (
        "terminated",
        COURT,
        [*RE_REVIEWED, "propose_termination", "review_termination", "approve_termination"],
    ),
    ("archived", POLICE, [*DELIVERED, "satisfied", "close", "archive"]),
]


def _centers(centers: dict[str, Center]) -> dict[str, _Center]:
    users = {
        u.username: u
        for u in User.objects.filter(center__in=list(centers.values())).select_related(
            "center", "department"
        )
    }
    result: dict[str, _Center] = {}
    for code, _name, _level, _parent in DEMO_CENTERS:
        center = centers[code]
        staff: dict[str, User] = {}
        for role in (Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST):
            staff[role] = users[demo_username(code, role)]
        for kind in MATTERS:
            for role in (Role.OFFICER, Role.HEAD):
                staff[f"{role}:{kind}"] = users[demo_username(code, role, kind)]
        departments = {
            d.kind: d
            for d in Department.objects.filter(center=center, is_active=True).order_by("pk")
        }
        result[code] = _Center(center=center, staff=staff, departments=departments)
    for code, _name, _level, parent in DEMO_CENTERS:
        if parent is not None:
            result[code].reviewing = result[parent]
    return result


def seed_worklist(centers: dict[str, Center]) -> int:
    """Bring the slots' cases that do not exist yet to their waiting points; returns how many
    were made. Each slot is one transaction: a failing slot leaves nothing behind and is retried
    by the next run."""
    staffed = _centers(centers)
    province = next(c for c in staffed.values() if c.center.level == CenterLevel.PROVINCE)
    done = set(
        Case.objects.filter(submission_key__startswith=KEY_PREFIX).values_list(
            "submission_key", flat=True
        )
    )
    made = 0
    for code, at in staffed.items():
        for slot, kind, steps in SLOTS:
            key = f"{KEY_PREFIX}{code}:{slot}"
            if key in done:
                continue
            work = _Work(at, province, key, kind)
            with transaction.atomic():
                for step in steps:
                    getattr(work, step)()
            made += 1
    return made
