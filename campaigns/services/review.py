"""Quality review (案件评查, DOMAIN.md §8): score sheets, the sample, reviewers, scores, the
reviewed department's one objection, the office's decision, and the way out to 责任倒查 and 通报.

Decisions worth knowing:

- **Score sheets.** The default sheet (centre null, migration 0002) is read-only; a center copies it
  (``copy_score_sheet``) and edits its own (``replace_score_items``). Items always total 100, since
  the bands (优秀 ≥ 90, 合格 ≥ 60) are on 100 points. A sheet somebody has scored against is
  frozen (409): changing it would change reviews already given. A campaign uses the sheet chosen
  when it was opened, else, fixed at its first sampling, the center's active sheet, else the
  default one (``sheet_for``).
- **Sampling** draws handled or closed cases (replied, closed, terminated, archived) of the
  campaign's scope (its center, and the centers below when it includes them) registered in the
  period (the campaign's, unless the rules give ``registered_from``/``registered_to``). Rules run in
  a fixed order (不满意, repeat petitions, N per department, then random among the rest); a case
  is drawn once per campaign, by the first rule that finds it, and the rule is kept on the row.
- **No case events.** Reviewing a file does not change the case, and most reviewed files are
  archived, which petitions.services.record_event refuses to touch: sampling, scores, objections
  and decisions are campaign records with their own history (simple-history on SampledCase and
  CaseReview). What does change the case, a 责任倒查 finding or a 通报, goes through supervision,
  which writes the case event (and refuses an archived file: a supervisor reopens it first).
- **Outside reviewers** (人大代表, 政协委员, lawyers) are user accounts with the one role
  Role.REVIEWER, attached to the campaign's center (petitions.selectors needs a center to apply
  the user visibility hook) and no department, so they read only the cases sampled for them
  (campaigns.selectors.reviewer_case_ids), never reveal personal data (the role is not in
  PII_REVEAL_ROLES) and can act on nothing else. The kind (deputy, CPPCC, lawyer) is written into
  the account's full name, e.g. "王五（律师）", which is how every list should show them; the
  office gives them the password it chose (validated by Django's password validators).
- **One review per reviewer per case.** A second submission is refused (409) unless it carries
  the review's ``expected_version``: then it replaces the scores, until the department objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Random, RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clocks.deadlines import CHINA_TZ
from clocks.models import NotificationKind
from closure.models import Evaluation, EvaluationChannel, Rating, ReplyStatus
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import Center, Department, User
from core.orgcache import subtree_ids
from core.roles import Role
from petitions.models import Case, Visit
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole, AssignmentState
from supervision.models import AccountabilityFinding, Bulletin
from supervision.services import issue_bulletin, record_accountability_finding

from ..models import (
    Campaign,
    CampaignKind,
    CaseReview,
    ItemScore,
    ObjectionState,
    SampledCase,
    ScoreItem,
    ScoreSection,
    ScoreSheet,
)
from .common import (
    check_version,
    lock,
    lock_campaign,
    notify,
    require_manager,
    require_open_campaign,
    save_versioned,
    to_users,
)

__all__ = [
    "DEFAULT_SHEET_NAME",
    "OUTSIDE_REVIEWER_KINDS",
    "REVIEWABLE_STATES",
    "SAMPLE_RULES",
    "SHEET_TOTAL",
    "add_outside_reviewer",
    "assign_reviewers",
    "copy_score_sheet",
    "decide_objection",
    "issue_review_bulletin",
    "lead_department_of",
    "object_to_review",
    "open_finding_from_review",
    "replace_score_items",
    "sample_cases",
    "sheet_for",
    "submit_review",
]

DEFAULT_SHEET_NAME = "涉法涉诉信访案件评查评分表"
SHEET_TOTAL = 100
SHEET_EDITING_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.LEADER)
# Handled or closed: a written reply was issued, or the case was closed, terminated or archived.
REVIEWABLE_STATES = (CaseState.REPLIED, CaseState.CLOSED, CaseState.TERMINATED, CaseState.ARCHIVED)
# The rules, in the order they draw (a case goes to the first rule that finds it).
SAMPLE_RULES = ("dissatisfied", "repeat", "per_department", "random")
MAX_DRAW = 500  # per rule and run: a review panel scores tens of files, not thousands
OUTSIDE_REVIEWER_KINDS = {
    "deputy": gettext_lazy("People's congress deputy (人大代表)"),
    "cppcc": gettext_lazy("CPPCC member (政协委员)"),
    "lawyer": gettext_lazy("Lawyer (律师)"),
}
# What goes into the account's full name (Chinese, as the lists show it).
OUTSIDE_REVIEWER_SUFFIX = {"deputy": "人大代表", "cppcc": "政协委员", "lawyer": "律师"}
# Lead assignments that stand for the department that handled the case (not cancelled, not
# returned: a returned lead handed the case back and another department took it).
HANDLING_LEAD_STATES = (
    AssignmentState.PENDING,
    AssignmentState.SIGNED,
    AssignmentState.ACCEPTED,
    AssignmentState.DONE,
)


# --- score sheets --------------------------------------------------------------------------------


def _require_sheet_editor(actor: User, center: Center) -> None:
    if actor.is_superuser:
        return
    if not actor.has_role(*SHEET_EDITING_ROLES) or actor.center_id != center.pk:
        raise PermissionDenied(
            _("Only the center's administrators, supervisors and leaders may edit its score sheet.")
        )


def default_sheet() -> ScoreSheet | None:
    return ScoreSheet.objects.filter(center__isnull=True, is_active=True).order_by("pk").first()


def sheet_for(campaign: Campaign) -> ScoreSheet | None:
    """The sheet the campaign scores with: its own, else its center's active one, else the
    default one."""
    if campaign.score_sheet_id is not None:
        return campaign.score_sheet
    own = ScoreSheet.objects.filter(center_id=campaign.center_id, is_active=True).order_by("-pk")
    return own.first() or default_sheet()


def _sheet_is_used(sheet: ScoreSheet) -> bool:
    return ItemScore.objects.filter(item__sheet=sheet).exists()


def copy_score_sheet(
    *, actor: User, center: Center, source: ScoreSheet | None = None, name: str = ""
) -> ScoreSheet:
    """A center's own sheet, copied from ``source`` (the default sheet unless given); the
    center's earlier sheets are retired (one active sheet per center)."""
    _require_sheet_editor(actor, center)
    source = source or default_sheet()
    if source is None:
        raise DomainError(_("There is no score sheet to copy."), code="no_sheet")
    if source.center_id is not None and source.center_id != center.pk:
        raise PermissionDenied(_("Copy the default sheet or one of your center's own."))
    with transaction.atomic():
        for old in ScoreSheet.objects.select_for_update().filter(center=center, is_active=True):
            old.is_active = False
            old._history_user = actor  # type: ignore[attr-defined]
            old.save(update_fields=["is_active"])
        sheet = ScoreSheet(
            name=(name.strip() or f"{center.name}{source.name}")[:120],
            center=center,
            is_active=True,
            excellent_from=source.excellent_from,
            pass_from=source.pass_from,
        )
        sheet._history_user = actor  # type: ignore[attr-defined]
        sheet.save()
        for item in source.items.order_by("sort_order", "pk"):
            copy = ScoreItem(
                sheet=sheet,
                section=item.section,
                criterion=item.criterion,
                points=item.points,
                sort_order=item.sort_order,
            )
            copy._history_user = actor  # type: ignore[attr-defined]
            copy.save()
    return sheet


def replace_score_items(
    *, actor: User, sheet: ScoreSheet, items: Sequence[Mapping[str, Any]]
) -> ScoreSheet:
    """Set a center sheet's items: ``[{"section", "criterion", "points"}]`` in order (an item
    with an ``id`` of this sheet is changed in place, the others are added, the missing removed).
    The points must total 100; a sheet already scored against is frozen (409)."""
    if sheet.center is None:
        raise PermissionDenied(_("The default sheet cannot be edited; copy it for your center."))
    _require_sheet_editor(actor, sheet.center)
    errors: list[str] = []
    sections = set(ScoreSection.values)
    rows: list[tuple[int | None, str, str, int]] = []
    for n, raw in enumerate(items, start=1):
        section = str(raw.get("section") or "")
        criterion = str(raw.get("criterion") or "").strip()
        points = raw.get("points")
        item_id = raw.get("id")
        if section not in sections:
            errors.append(_("Item %(n)d: choose one of the sections.") % {"n": n})
        if not criterion:
            errors.append(_("Item %(n)d: write the criterion.") % {"n": n})
        if isinstance(points, bool) or not isinstance(points, int) or points < 1:
            errors.append(_("Item %(n)d: points must be a whole number of at least 1.") % {"n": n})
            points = 0
        rows.append((int(item_id) if item_id else None, section, criterion, int(points)))
    if not rows:
        errors.append(_("A score sheet needs at least one item."))
    total = sum(r[3] for r in rows)
    if rows and total != SHEET_TOTAL:
        errors.append(
            _("The items total %(total)d points; they must total %(want)d.")
            % {"total": total, "want": SHEET_TOTAL}
        )
    if errors:
        raise ValidationError({"items": errors})
    with transaction.atomic():
        sheet = lock(ScoreSheet, sheet.pk)
        if _sheet_is_used(sheet):
            raise DomainError(
                _("Reviews have been scored on this sheet; copy it to make a new one."),
                code="sheet_in_use",
            )
        existing = {item.pk: item for item in sheet.items.all()}
        kept: set[int] = set()
        for order, (item_id, section, criterion, points) in enumerate(rows, start=1):
            item = existing.get(item_id) if item_id else None
            if item is None:
                item = ScoreItem(sheet=sheet)
            else:
                kept.add(item.pk)
            item.section, item.criterion, item.points, item.sort_order = (
                section,
                criterion,
                points,
                order,
            )
            item._history_user = actor  # type: ignore[attr-defined]
            item.save()
        for pk, item in existing.items():
            if pk not in kept:
                item._history_user = actor  # type: ignore[attr-defined]
                item.delete()
    return sheet


# --- sampling --------------------------------------------------------------------------------------


def _require_review_campaign(campaign: Campaign) -> None:
    if campaign.kind != CampaignKind.QUALITY_REVIEW:
        raise DomainError(
            _("Only a quality review campaign samples and scores cases."), code="not_a_review"
        )


def campaign_center_ids(campaign: Campaign) -> list[int]:
    center = campaign.center
    return subtree_ids(center) if campaign.include_subordinates else [center.pk]


def _handling_lead(case_ref: Any) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        case_id=case_ref, role=AssignmentRole.LEAD, state__in=HANDLING_LEAD_STATES
    ).order_by("-assigned_at", "-pk")


def lead_department_of(case: Case) -> Department | None:
    """The department whose handling is reviewed: the case's latest lead assignment that was
    not cancelled or returned (a closed case's lead assignment is done, not active)."""
    lead = _handling_lead(case.pk).select_related("department").first()
    return lead.department if lead is not None else None


def _counting_evaluation() -> QuerySet[Evaluation]:
    """The case's counting evaluation, newest first (closure.selectors.evaluation_for: the latest
    on its current delivered reply, leaving out a department's verdict on itself at a return
    visit), correlated on the outer case."""
    return (
        Evaluation.objects.filter(
            case_id=OuterRef("pk"),
            reply__superseded_at__isnull=True,
            reply__status=ReplyStatus.DELIVERED,
        )
        .exclude(
            channel=EvaluationChannel.RETURN_VISIT,
            recorded_by__department_id__isnull=False,
            recorded_by__department_id=F("department_id"),
        )
        .order_by("-evaluated_at", "-id")
    )


def _parse_rules(rules: Any, campaign: Campaign) -> tuple[dict[str, Any], date, date]:
    if not isinstance(rules, Mapping):
        raise ValidationError({"rules": [_("Give the sampling rules as an object.")]})
    errors: list[str] = []
    known = {*SAMPLE_RULES, "registered_from", "registered_to"}
    unknown = sorted(str(k) for k in rules if k not in known)
    if unknown:
        errors.append(_("Unknown rules: %(names)s.") % {"names": ", ".join(unknown)})
    clean: dict[str, Any] = {}
    for key in ("random", "per_department"):
        value = rules.get(key)
        if value in (None, "", 0):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DRAW:
            errors.append(
                _("“%(rule)s” must be a whole number from 1 to %(max)d.")
                % {"rule": key, "max": MAX_DRAW}
            )
            continue
        clean[key] = value
    for key in ("dissatisfied", "repeat"):
        value = rules.get(key)
        if value in (None, False):
            continue
        if value is not True:
            errors.append(_("“%(rule)s” must be true or false.") % {"rule": key})
            continue
        clean[key] = True
    bounds: dict[str, date] = {}
    for key, default in (
        ("registered_from", campaign.starts_on),
        ("registered_to", campaign.ends_on),
    ):
        value = rules.get(key)
        if value in (None, ""):
            bounds[key] = default
            continue
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            errors.append(_("“%(rule)s” must be a date (YYYY-MM-DD).") % {"rule": key})
            continue
        bounds[key] = parsed
        clean[key] = value
    if not errors and not any(k in clean for k in SAMPLE_RULES):
        errors.append(
            _(
                "Choose at least one rule: random, all dissatisfied, all repeat, or N per department."
            )
        )
    if (
        not errors
        and "registered_from" in bounds
        and "registered_to" in bounds
        and bounds["registered_from"] > bounds["registered_to"]
    ):
        errors.append(_("The period ends before it starts."))
    if errors:
        raise ValidationError({"rules": errors})
    return clean, bounds["registered_from"], bounds["registered_to"]


def _pool(campaign: Campaign, since: date, until: date) -> QuerySet[Any]:
    # Beijing days, as staff read the period
    start = datetime(since.year, since.month, since.day, tzinfo=CHINA_TZ)
    end = datetime(until.year, until.month, until.day, tzinfo=CHINA_TZ) + timedelta(days=1)
    return (
        Case.objects.filter(
            center_id__in=campaign_center_ids(campaign),
            state__in=REVIEWABLE_STATES,
            registered_at__gte=start,
            registered_at__lt=end,
        )
        .exclude(pk__in=SampledCase.objects.filter(campaign=campaign).values("case_id"))
        .annotate(
            lead_department_id=Subquery(_handling_lead(OuterRef("pk")).values("department_id")[:1])
        )
    )


@dataclass(frozen=True)
class SampleResult:
    samples: list[SampledCase]
    rules: dict[str, Any]
    counts: dict[str, int]


def sample_cases(*, actor: User, campaign: Campaign, rules: Mapping[str, Any]) -> SampleResult:
    """Draw cases into a quality review by ``rules`` (see the module docstring). Returns the new
    samples (a case already in the sample is never drawn again), the rules as applied and how
    many each rule drew."""
    require_manager(actor, campaign)
    _require_review_campaign(campaign)
    clean, since, until = _parse_rules(rules, campaign)
    now = timezone.now()
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        require_open_campaign(campaign)
        if campaign.score_sheet_id is None:
            sheet = sheet_for(campaign)
            if sheet is None:
                raise DomainError(_("There is no score sheet to review with."), code="no_sheet")
            # Fixed at the first sampling, so the center's later sheet does not change it.
            campaign.score_sheet = sheet
            save_versioned(campaign, actor, ["score_sheet"])
        drawn: dict[int, tuple[str, int | None]] = {}  # case id -> (rule, lead department id)

        def take(rule: str, rows: Iterable[tuple[int, int | None]]) -> None:
            for case_id, department_id in rows:
                drawn.setdefault(case_id, (rule, department_id))

        pool = _pool(campaign, since, until)
        if clean.get("dissatisfied"):
            latest = _counting_evaluation()
            # 不满意: the counting evaluation rates the center or the department dissatisfied
            condition = Q(latest_center_rating=Rating.DISSATISFIED) | Q(
                latest_department_rating=Rating.DISSATISFIED
            )
            dissatisfied = (
                pool.annotate(
                    latest_center_rating=Subquery(latest.values("center_rating")[:1]),
                    latest_department_rating=Subquery(latest.values("department_rating")[:1]),
                )
                .filter(condition)
                .order_by("registered_at", "pk")
                .values_list("pk", "lead_department_id")[:MAX_DRAW]
            )
            take("dissatisfied", dissatisfied)
        if clean.get("repeat"):
            repeat_visit = Visit.objects.filter(case_id=OuterRef("pk"), is_repeat=True)
            repeats = (
                pool.filter(Q(visit_count__gt=1) | Exists(repeat_visit))
                .order_by("registered_at", "pk")
                .values_list("pk", "lead_department_id")[:MAX_DRAW]
            )
            take("repeat", repeats)
        if clean.get("per_department"):
            ranked = (
                pool.exclude(pk__in=list(drawn))
                .filter(lead_department_id__isnull=False)
                .annotate(
                    draw=Window(
                        RowNumber(), partition_by=[F("lead_department_id")], order_by=Random()
                    )
                )
                .filter(draw__lte=clean["per_department"])
                .values_list("pk", "lead_department_id")
            )
            take("per_department", ranked)
        if clean.get("random"):
            randoms = (
                pool.exclude(pk__in=list(drawn))
                .order_by(Random())
                .values_list("pk", "lead_department_id")[: clean["random"]]
            )
            take("random", randoms)
        samples = []
        for case_id, (rule, department_id) in sorted(drawn.items()):
            sample = SampledCase(
                campaign=campaign,
                case_id=case_id,
                department_id=department_id,
                rule=rule,
                sampled_at=now,
            )
            sample._history_user = actor  # type: ignore[attr-defined]
            sample.save()
            samples.append(sample)
    counts = {rule: sum(1 for r, _d in drawn.values() if r == rule) for rule in SAMPLE_RULES}
    return SampleResult(samples=samples, rules=clean, counts=counts)


# --- reviewers -------------------------------------------------------------------------------------


def _eligible_reviewer_error(user: User, campaign: Campaign, sample: SampledCase) -> str | None:
    if not user.is_active:
        return _("%(user)s's account is disabled.") % {"user": user}
    if user.has_role(Role.REVIEWER):
        return None
    if user.center_id != campaign.center_id:
        return _("%(user)s is neither staff of the campaign's center nor an outside reviewer.") % {
            "user": user
        }
    if sample.department_id is not None and user.department_id == sample.department_id:
        # nobody judges their own department's handling
        return _("%(user)s works in the department under review.") % {"user": user}
    return None


def assign_reviewers(*, actor: User, sample: SampledCase, reviewers: Sequence[User]) -> SampledCase:
    """Set the sample's reviewers: staff of the campaign's center (not of the department under
    review) or outside reviewers. A reviewer who has already scored the case stays."""
    campaign = sample.campaign
    require_manager(actor, campaign)
    _require_review_campaign(campaign)
    chosen = list(dict.fromkeys(reviewers))
    if not chosen:
        raise ValidationError({"reviewers": [_("Choose at least one reviewer.")]})
    errors = [msg for u in chosen if (msg := _eligible_reviewer_error(u, campaign, sample))]
    if errors:
        raise ValidationError({"reviewers": errors})
    now = timezone.now()
    with transaction.atomic():
        lock_campaign(campaign)
        require_open_campaign(campaign)
        sample = lock(SampledCase, sample.pk)
        scored = set(sample.reviews.values_list("reviewer_id", flat=True))
        before = set(sample.reviewers.values_list("pk", flat=True))
        wanted = {u.pk for u in chosen} | scored
        sample._history_user = actor  # type: ignore[attr-defined]
        sample.reviewers.set(wanted)
        added = [u for u in chosen if u.pk not in before]
        notify(
            None,
            NotificationKind.EVENT,
            _("You are asked to review case %(number)s in “%(campaign)s”.")
            % {"number": sample.case.number, "campaign": campaign.name},
            to_users(*added),
            at=now,
            title=campaign.name,
        )
    return sample


def add_outside_reviewer(
    *,
    actor: User,
    campaign: Campaign,
    username: str,
    full_name: str,
    kind: str,
    password: str,
) -> User:
    """An outside reviewer's account: the one role Role.REVIEWER, the campaign's center, no
    department (module docstring). The office hands over the password it chose."""
    require_manager(actor, campaign)
    _require_review_campaign(campaign)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    if not username:
        errors["username"] = [_("Give the account a user name.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This user name is taken.")]
    if not full_name:
        errors["full_name"] = [_("Write the reviewer's name.")]
    if kind not in OUTSIDE_REVIEWER_KINDS:
        errors["kind"] = [_("Choose deputy, CPPCC member or lawyer.")]
    candidate = User(username=username, full_name=full_name, center=campaign.center)
    try:
        validate_password(password or "", candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User(
            username=username,
            full_name=f"{full_name}（{OUTSIDE_REVIEWER_SUFFIX[kind]}）"[:50],
            center=campaign.center,
            department=None,
        )
        user.set_password(password)
        user.save()
        user.set_roles([Role.REVIEWER])
    return user


# --- scoring ---------------------------------------------------------------------------------------


def _sample_of(campaign: Campaign, case: Case) -> SampledCase:
    sample = SampledCase.objects.filter(campaign=campaign, case=case).first()
    if sample is None:
        raise DomainError(_("This case is not in the campaign's sample."), code="not_sampled")
    return sample


def _clean_scores(sheet: ScoreSheet, scores: Any) -> tuple[list[tuple[ScoreItem, int, str]], int]:
    items = {item.pk: item for item in sheet.items.all()}
    numbered = {pk: n for n, pk in enumerate(items, start=1)}
    errors: list[str] = []
    faulty: set[int] = set()
    if not isinstance(scores, list | tuple):
        raise ValidationError({"scores": [_("Give the scores as a list.")]})
    given: dict[int, tuple[int, str]] = {}
    for raw in scores:
        if not isinstance(raw, Mapping):
            errors.append(_("Each score is an object with item, points and note."))
            continue
        item_id, points, note = raw.get("item"), raw.get("points"), raw.get("note") or ""
        if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id not in items:
            errors.append(_("%(item)s is not an item of this score sheet.") % {"item": item_id})
            continue
        item = items[item_id]
        label = _("Item %(n)d (%(criterion)s)") % {
            "n": numbered[item_id],
            "criterion": item.criterion,
        }
        if item_id in given or item_id in faulty:
            errors.append(_("%(item)s is scored twice.") % {"item": label})
            continue
        if isinstance(points, bool) or not isinstance(points, int):
            faulty.add(item_id)
            errors.append(_("%(item)s: points must be a whole number.") % {"item": label})
            continue
        if not 0 <= points <= item.points:
            faulty.add(item_id)
            errors.append(
                _("%(item)s: points must be between 0 and %(max)d.")
                % {"item": label, "max": item.points}
            )
            continue
        given[item_id] = (points, str(note).strip())
    for pk, item in items.items():
        if pk not in given and pk not in faulty:
            errors.append(
                _("Item %(n)d (%(criterion)s) is not scored.")
                % {"n": numbered[pk], "criterion": item.criterion}
            )
    if errors:
        raise ValidationError({"scores": errors})
    rows = [(items[pk], points, note) for pk, (points, note) in given.items()]
    return rows, sum(points for _item, points, _note in rows)


def submit_review(
    *,
    actor: User,
    campaign: Campaign,
    case: Case,
    scores: Sequence[Mapping[str, Any]],
    comment: str = "",
    expected_version: int | None = None,
) -> CaseReview:
    """An assigned reviewer scores every item of the campaign's sheet once (0 to the item's
    points, a note each), the total is computed. One review per reviewer and case: a second one
    is 409, unless it carries ``expected_version`` to replace the scores before any objection."""
    _require_review_campaign(campaign)
    sample = _sample_of(campaign, case)
    if not actor.is_superuser and not sample.reviewers.filter(pk=actor.pk).exists():
        raise PermissionDenied(_("Only the reviewers assigned to this case may score it."))
    sheet = sheet_for(campaign)
    if sheet is None:
        raise DomainError(_("There is no score sheet to review with."), code="no_sheet")
    rows, total = _clean_scores(sheet, scores)
    now = timezone.now()
    with transaction.atomic():
        campaign = lock_campaign(campaign)
        require_open_campaign(campaign)
        sample = lock(SampledCase, sample.pk)
        review = (
            CaseReview.objects.select_for_update().filter(sample=sample, reviewer=actor).first()
        )
        if review is not None:
            if expected_version is None:
                raise DomainError(
                    _("You have already reviewed this case."), code="already_reviewed"
                )
            check_version(review, expected_version)
            if review.objection_state != ObjectionState.NONE:
                raise DomainError(
                    _("The department has objected to this review; it can no longer be changed."),
                    code="objected",
                )
            review.total, review.comment, review.submitted_at = total, comment.strip(), now
            save_versioned(review, actor, ["total", "comment", "submitted_at"])
            review.scores.all().delete()
        else:
            if expected_version is not None:
                raise StaleState(_("This review does not exist yet; reload the page."))
            review = CaseReview(
                sample=sample,
                reviewer=actor,
                total=total,
                comment=comment.strip(),
                submitted_at=now,
            )
            review._history_user = actor  # type: ignore[attr-defined]
            review.save()
        ItemScore.objects.bulk_create(
            ItemScore(review=review, item=item, points=points, note=note)
            for item, points, note in rows
        )
        if sample.department_id is not None:
            notify(
                None,
                NotificationKind.EVENT,
                _("Case %(number)s was scored %(total)d in “%(campaign)s”; you may object once.")
                % {"number": case.number, "total": total, "campaign": campaign.name},
                [
                    {
                        "audience_center_id": sample.department.center_id,
                        "audience_department_id": sample.department_id,
                        "audience_role": Role.HEAD,
                    }
                ],
                at=now,
                title=campaign.name,
            )
    return review


# --- objection and decision ------------------------------------------------------------------------


def can_object(actor: User, review: CaseReview) -> bool:
    """The head or an officer of the department under review."""
    department_id = review.sample.department_id
    return (
        department_id is not None
        and actor.department_id == department_id
        and actor.has_role(Role.HEAD, Role.OFFICER)
    )


def object_to_review(
    *, actor: User, review: CaseReview, reasons: str, expected_version: int | None = None
) -> CaseReview:
    """The reviewed department objects once, with reasons; the campaign office decides."""
    if not can_object(actor, review):
        raise PermissionDenied(_("Only the department under review may object to its scores."))
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationError({"reasons": [_("Give the reasons for the objection.")]})
    campaign = review.sample.campaign
    now = timezone.now()
    with transaction.atomic():
        lock_campaign(campaign)
        require_open_campaign(campaign)
        review = lock(CaseReview, review.pk)
        if review.objection_state != ObjectionState.NONE:
            raise DomainError(
                _("The department has already objected to this review."), code="objected"
            )
        check_version(review, expected_version)
        review.objection = reasons
        review.objection_state = ObjectionState.PENDING
        review.objected_by = actor
        review.objected_at = now
        save_versioned(
            review, actor, ["objection", "objection_state", "objected_by", "objected_at"]
        )
        notify(
            None,
            NotificationKind.EVENT,
            _("%(department)s objects to a review of case %(number)s: %(reasons)s")
            % {
                "department": actor.department,
                "number": review.sample.case.number,
                "reasons": reasons,
            },
            [
                {"audience_center_id": campaign.center_id, "audience_role": Role.SUPERVISOR},
                *to_users(campaign.group_leader),
            ],
            at=now,
            title=campaign.name,
        )
    return review


def decide_objection(
    *,
    actor: User,
    review: CaseReview,
    upheld: bool,
    note: str,
    adjusted_total: int | None = None,
    expected_version: int | None = None,
) -> CaseReview:
    """The campaign office decides a pending objection: upheld with the total it sets (which then
    counts), or rejected (the reviewer's total stands). A note either way."""
    campaign = review.sample.campaign
    require_manager(actor, campaign)
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Write the decision.")]
    sheet = sheet_for(campaign)
    top = sum(i.points for i in sheet.items.all()) if sheet is not None else SHEET_TOTAL
    if upheld:
        if adjusted_total is None:
            errors["adjusted_total"] = [_("An upheld objection sets the adjusted total.")]
        elif not 0 <= adjusted_total <= top:
            errors["adjusted_total"] = [
                _("The adjusted total must be between 0 and %(max)d.") % {"max": top}
            ]
    elif adjusted_total is not None:
        errors["adjusted_total"] = [_("A rejected objection leaves the total as it was.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        lock_campaign(campaign)
        review = lock(CaseReview, review.pk)
        check_version(review, expected_version)
        if review.objection_state != ObjectionState.PENDING:
            raise DomainError(_("There is no objection to decide."), code="no_objection")
        review.objection_state = ObjectionState.UPHELD if upheld else ObjectionState.REJECTED
        review.adjusted_total = adjusted_total if upheld else None
        review.decision_note = note
        review.decided_by = actor
        review.decided_at = now
        save_versioned(
            review,
            actor,
            ["objection_state", "adjusted_total", "decision_note", "decided_by", "decided_at"],
        )
        notify(
            None,
            NotificationKind.EVENT,
            (
                _("The objection on case %(number)s was upheld; the total is now %(total)d.")
                if upheld
                else _("The objection on case %(number)s was rejected; the total stays %(total)d.")
            )
            % {"number": review.sample.case.number, "total": review.final_total},
            to_users(review.objected_by, review.reviewer),
            at=now,
            title=campaign.name,
        )
    return review


# --- findings and bulletins ------------------------------------------------------------------------


def open_finding_from_review(
    *,
    actor: User,
    review: CaseReview,
    finding: str,
    department: Department | None = None,
    officer: User | None = None,
    measures: str = "",
) -> AccountabilityFinding:
    """责任倒查 from a review: supervision.services.record_accountability_finding, naming the
    department under review unless told otherwise. The finding is recorded at once (supervision
    keeps no drafts); it writes the case event, so an archived file must be reopened first (409
    from supervision)."""
    campaign = review.sample.campaign
    require_manager(actor, campaign)
    if department is None and officer is None:
        department = review.sample.department
    return record_accountability_finding(
        actor=actor,
        case=review.sample.case,
        department=department,
        officer=officer,
        finding=finding,
        measures=measures,
    )


def issue_review_bulletin(
    *,
    actor: User,
    campaign: Campaign,
    title: str,
    body: str,
    samples: Sequence[SampledCase] | None = None,
) -> Bulletin:
    """The month's 通报 from a review, through supervision.services.issue_bulletin: the units are
    the departments under review of ``samples`` (by default the cases whose score is 不合格).
    Archived files are named in the text only: a bulletin writes each named case's event, and an
    archived file is read-only."""
    from ..selectors_review import FAIL, review_results

    require_manager(actor, campaign)
    _require_review_campaign(campaign)
    if samples is None:
        results = review_results(campaign, actor)
        samples = [row.sample for row in results.cases if row.band == FAIL]
    chosen = [s for s in samples if s.campaign_id == campaign.pk]
    departments = list(dict.fromkeys(s.department for s in chosen if s.department is not None))
    cases = [s.case for s in chosen if s.case.state != CaseState.ARCHIVED]
    if not chosen:
        raise ValidationError({"samples": [_("No case of this review fails; nothing to name.")]})
    return issue_bulletin(actor=actor, title=title, body=body, departments=departments, cases=cases)
