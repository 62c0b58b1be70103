"""The demo's campaigns (issue 19), made through the campaigns services by the users whose work
each step is, so that a new user sees both kinds at once:

- **积案化解百日攻坚** (backlog), opened by the city center (石家庄市) over its counties: 12 backlog
  matters of 井陉县 handed down (交办) to 井陉县's center with 包案 (the head of the case's lead
  department), signed for by the county, followed with progress entries: 8 resolved (化解) and,
  their observation window having passed with no new visit, ceased (息诉罢访); 3 in hand; 1
  stalled. The campaign page reads as the seed's summary: "上级交办积案 12 起，已化解 8 起，正在
  处理 4 起，息诉率 67%".
- **案件评查** (quality review) of the city over its counties: six handled cases of 正定县 drawn by
  the rules (all 不满意, then N per department), reviewed by a city supervisor and an outside
  reviewer (人大代表, user ``demo_deputy``), scored on the default sheet; one objection of the
  reviewed department waits for the campaign office.

A backlog matter is an old matter, so after the services have run, the history of each backlog
case (every timestamp of every row that points at the case or the matter) is moved back in one
UPDATE per table, by 100 to 130 days for a resolved matter (so its 90-day observation window has
passed) and 20 to 60 days for one in hand. That is the one place the demo writes history around
the services, as ``demo.cases`` does for the bulk cases.

Idempotent: a campaign that exists by name is left as it is.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.apps import apps
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import (
    Campaign,
    CampaignKind,
    CaseReview,
    Matter,
    MatterOutcome,
    SampledCase,
)
from campaigns.services.review import sheet_for
from core.models import Center, User
from core.roles import Role
from demo.organisation import DEMO_PASSWORD
from demo.worklist import DELIVERED, HANDLING, KEY_PREFIX, MATTERS, _centers, _Work
from petitions.models import Case

BACKLOG_NAME = "积案化解百日攻坚"
REVIEW_NAME = "涉法涉诉信访案件评查"
CITY, BACKLOG_COUNTY, REVIEW_COUNTY = "130100", "130121", "130123"
RESOLVED, IN_HAND, STALLED = 8, 3, 1
REVIEWER_USERNAME = "demo_deputy"

OBSTACLES = "信访人诉求明显超出法律政策规定，经多次释法明理仍坚持原诉求。"
RESOLUTIONS = [
    "经包案领导多次约谈，依法落实执行款项，信访人签订息诉罢访承诺书。",
    "召开联席会议，协调相关部门依法解决，信访人表示满意。",
    "经释法明理并给予司法救助，信访人认可处理结果。",
    "督促法院恢复执行，执行款已全部到位，信访人息诉。",
]


def seed_campaigns(centers: dict[str, Center]) -> int:
    """Make the demo campaigns that do not exist yet; returns how many were made."""
    staffed = _centers(centers)
    made = 0
    if not Campaign.objects.filter(name=BACKLOG_NAME).exists():
        with transaction.atomic():
            _backlog(staffed)
        made += 1
    if not Campaign.objects.filter(name=REVIEW_NAME).exists():
        with transaction.atomic():
            _review(staffed)
        made += 1
    return made


def _backlog(staffed: dict) -> Campaign:  # type: ignore[type-arg]
    city, county = staffed[CITY], staffed[BACKLOG_COUNTY]
    province = next(c for c in staffed.values() if c.reviewing is None)
    today = timezone.localdate()
    supervisor = city.user(Role.SUPERVISOR)
    campaign = campaign_services.create_campaign(
        actor=supervisor,
        name=BACKLOG_NAME,
        kind=CampaignKind.BACKLOG,
        center=city.center,
        include_subordinates=True,
        starts_on=today - timedelta(days=140),
        ends_on=today + timedelta(days=60),
        targets={"resolution_rate": 0.8, "cessation_rate": 0.6},
        group_leader=city.user(Role.LEADER),
        office="市涉法涉诉联合接访服务中心积案化解办公室",
        members=[supervisor, county.user(Role.SUPERVISOR), county.user(Role.LEADER)],
        progress_interval_days=7,
        observation_days=90,
        description="大接访、大排查、大化解：对上级交办积案定人员、定案件、定时间、定结果。",
    )
    kinds = list(MATTERS)
    rng = random.Random("demo-campaign")
    shifts: dict[int, int] = {}
    for i in range(RESOLVED + IN_HAND + STALLED):
        kind = kinds[i % len(kinds)]
        work = _Work(county, province, f"{KEY_PREFIX}{BACKLOG_COUNTY}:campaign-{i + 1}", kind)
        for step in HANDLING:
            getattr(work, step)()
        case = work._case()
        matter = campaign_services.hand_down_matter(
            actor=supervisor,
            campaign=campaign,
            case=case,
            center=county.center,
            handler=county.user(Role.OFFICER, kind),
            due_on=today + timedelta(days=20 + 3 * i),
            target_result="依法解决信访人合理诉求，做到案结事了、息诉罢访。",
            summary=case.request,
            since=today - timedelta(days=rng.randint(400, 1500)),
            work_done="多次接待，已书面答复，信访人仍不服。",
            next_step="包案领导约谈信访人，协调相关部门研究解决方案。",
        )
        matter = campaign_services.sign_for_matter(actor=county.user(Role.TRIAGE), matter=matter)
        handler = county.user(Role.OFFICER, kind)
        campaign_services.record_progress(
            actor=handler,
            matter=matter,
            text="包案领导已约谈信访人，了解诉求，制定化解方案。",
            outcome=MatterOutcome.IN_HAND,
        )
        if i < RESOLVED:
            for step in DELIVERED[len(HANDLING) :]:
                getattr(work, step)()
            work.satisfied()
            work.close()
            campaign_services.record_progress(
                actor=county.user(Role.HEAD, kind),  # the 包案 leader closes his responsibility
                matter=Matter.objects.get(pk=matter.pk),
                text="问题已依法解决。",
                outcome=MatterOutcome.RESOLVED,
                resolution=RESOLUTIONS[i % len(RESOLUTIONS)],
            )
            shifts[case.pk] = rng.randint(100, 130)
        elif i < RESOLVED + IN_HAND:
            shifts[case.pk] = rng.randint(20, 60)
        else:
            campaign_services.record_progress(
                actor=handler,
                matter=Matter.objects.get(pk=matter.pk),
                text="已组织听证，信访人拒不接受处理意见。",
                outcome=MatterOutcome.STALLED,
                obstacle=OBSTACLES,
            )
            shifts[case.pk] = rng.randint(20, 60)
    for case_id, days in shifts.items():
        _move_back(case_id, timedelta(days=days))
    return campaign


def _review(staffed: dict) -> Campaign:  # type: ignore[type-arg]
    city, county = staffed[CITY], staffed[REVIEW_COUNTY]
    province = next(c for c in staffed.values() if c.reviewing is None)
    today = timezone.localdate()
    supervisor = city.user(Role.SUPERVISOR)
    # Six handled cases of the county: two rated 不满意, four closed satisfied.
    cases: list[Case] = []
    for i, kind in enumerate([*MATTERS, *list(MATTERS)[:2]]):
        work = _Work(county, province, f"{KEY_PREFIX}{REVIEW_COUNTY}:review-{i + 1}", kind)
        for step in DELIVERED:
            getattr(work, step)()
        if i < 2:
            work.dissatisfied()
        else:
            work.satisfied()
            work.close()
        cases.append(work._case())
    campaign = campaign_services.create_campaign(
        actor=supervisor,
        name=REVIEW_NAME,
        kind=CampaignKind.QUALITY_REVIEW,
        center=city.center,
        include_subordinates=True,
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=30),
        group_leader=city.user(Role.LEADER),
        office="市涉法涉诉联合接访服务中心案件评查办公室",
        members=[supervisor],
        description="对已办结涉法涉诉信访案件开展评查，邀请人大代表参加。",
    )
    campaign_services.sample_cases(
        actor=supervisor, campaign=campaign, rules={"dissatisfied": True, "per_department": 1}
    )
    deputy = User.objects.filter(username=REVIEWER_USERNAME).first()
    if deputy is None:
        deputy = campaign_services.add_outside_reviewer(
            actor=supervisor,
            campaign=campaign,
            username=REVIEWER_USERNAME,
            full_name="李明",
            kind="deputy",
            password=DEMO_PASSWORD,
        )
    rng = random.Random("demo-review")
    samples = list(
        SampledCase.objects.filter(campaign=campaign)
        .select_related("case", "department")
        .order_by("pk")
    )
    sheet = sheet_for(campaign)
    assert sheet is not None
    items = list(sheet.items.order_by("sort_order", "pk"))
    for n, sample in enumerate(samples):
        campaign_services.assign_reviewers(
            actor=supervisor, sample=sample, reviewers=[supervisor, deputy]
        )
        reviewers = [supervisor, deputy] if n < 4 else [supervisor]  # two cases still to score
        for reviewer in reviewers:
            scores = [
                {
                    "item": item.pk,
                    "points": max(0, item.points - rng.choice([0, 0, 0, 1, 2, item.points // 2])),
                    "note": "符合要求" if rng.random() < 0.7 else "存在瑕疵，需改进",
                }
                for item in items
            ]
            campaign_services.submit_review(
                actor=reviewer,
                campaign=campaign,
                case=sample.case,
                scores=scores,
                comment="评查意见：总体规范，个别环节需改进。",
            )
    # The reviewed department objects to its lowest score; the office has yet to decide.
    lowest = (
        CaseReview.objects.filter(sample__campaign=campaign, sample__department__isnull=False)
        .select_related("sample__department")
        .order_by("total", "pk")
        .first()
    )
    head = (
        User.objects.filter(department=lowest.sample.department, roles__role=Role.HEAD).first()
        if lowest is not None
        else None
    )
    if lowest is not None and head is not None:
        campaign_services.object_to_review(
            actor=head,
            review=lowest,
            reasons="答复意见已援引相关法律条文，扣分依据不足，请求复核。",
        )
    return campaign


def _move_back(case_id: int, delta: timedelta) -> None:
    """Move every timestamp of every row about the case (and its matters) back by ``delta``."""
    # The matter rows point at the case, so they move with it; their progress entries point at
    # the matter.
    case_model = Case
    matter_ids = list(Matter.objects.filter(case_id=case_id).values_list("pk", flat=True))
    for model in apps.get_models():
        times = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)
        ]
        if not times:
            continue
        changes = {name: F(name) - delta for name in times}
        if model is case_model:
            model._default_manager.filter(pk=case_id).update(**changes)
            continue
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if not isinstance(field, models.ForeignKey) or field.name in {"history_user"}:
                continue
            if target is case_model:
                model._default_manager.filter(**{field.attname: case_id}).update(**changes)
            elif target is Matter and matter_ids:
                model._default_manager.filter(**{f"{field.attname}__in": matter_ids}).update(
                    **changes
                )
