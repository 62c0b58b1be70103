"""Campaigns (专项活动, DOMAIN.md §8).

A campaign belongs to a center (and optionally reaches its subordinate centers). Its kind says what
it does:

- ``backlog`` (积案化解): backlog matters handed down (交办) with 包案 and followed to 化解 and 息诉;
- ``sweep`` (排查): candidates picked from the caseload by stated criteria, each kept or dropped
  with a reason; a kept candidate becomes a backlog matter with its 个案台账;
- ``quality_review`` (案件评查): a sample of handled cases scored against a score sheet.

Every row that users change keeps history (simple-history) and a ``version`` for stale writes
(409). Rates are computed, never typed: 化解率 = resolved / handed down, 息诉率 = ceased / handed
down, where a matter has ceased (息诉罢访) when it was resolved, the observation window after its
resolution has passed, and no new visit or case of the person came within it (selectors).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from core.models import Center, Department


class CampaignKind(models.TextChoices):
    BACKLOG = "backlog", _("Backlog clearing (积案化解)")
    SWEEP = "sweep", _("Sweep (排查)")
    QUALITY_REVIEW = "quality_review", _("Quality review (案件评查)")


class CampaignState(models.TextChoices):
    # "Running" alone is already an export job's state (正在生成): a context of its own.
    OPEN = "open", pgettext_lazy("campaign state", "Running")
    CLOSED = "closed", _("Closed")


class Campaign(models.Model):
    """A campaign: its center, period, leading group, targets and (for a sweep) its criteria."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    center = models.ForeignKey(
        Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="campaigns"
    )
    include_subordinates = models.BooleanField(_("include subordinate centers"), default=False)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    state = models.CharField(
        _("state"), max_length=10, choices=CampaignState.choices, default=CampaignState.OPEN
    )
    # Leading group (领导小组): its head, its office and its members.
    group_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leading group head"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    office = models.CharField(_("campaign office"), max_length=200, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leading group members"),
        blank=True,
        related_name="campaign_memberships",
    )
    # {"resolution_rate": 0.8, "cessation_rate": 0.6}; a missing key is no target.
    targets = models.JSONField(_("targets"), default=dict, blank=True)
    progress_interval_days = models.PositiveSmallIntegerField(
        _("progress report every (days)"), default=7
    )
    observation_days = models.PositiveSmallIntegerField(
        _("observation window for 息诉罢访 (days)"), default=90
    )
    # A sweep's criteria as last run (saved with the campaign, as the issue asks).
    sweep_criteria = models.JSONField(_("sweep criteria"), default=dict, blank=True)
    score_sheet = models.ForeignKey(
        "ScoreSheet",
        verbose_name=_("score sheet"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_order"
            ),
        ]
        indexes = [
            # campaign list: the campaigns of the viewer's centers, running first
            models.Index(fields=["center", "state", "-starts_on"], name="campaign_center_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class CandidateDecision(models.TextChoices):
    PENDING = "pending", _("To decide")
    KEPT = "kept", _("Kept")
    DROPPED = "dropped", _("Dropped")


class SweepCandidate(models.Model):
    """A case the sweep picked, with the criteria it met; kept (it becomes a matter) or dropped,
    with a reason either way."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="candidates")
    case = models.ForeignKey("petitions.Case", on_delete=models.CASCADE, related_name="+")
    criteria_met = models.JSONField(_("criteria met"), default=list)
    decision = models.CharField(
        _("decision"),
        max_length=10,
        choices=CandidateDecision.choices,
        default=CandidateDecision.PENDING,
    )
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sweep candidate")
        verbose_name_plural = _("sweep candidates")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "case"], name="candidate_once"),
        ]
        indexes = [
            # the campaign's candidate list, to decide first
            models.Index(fields=["campaign", "decision"], name="candidate_campaign_idx"),
        ]


class MatterOutcome(models.TextChoices):
    IN_HAND = "in_hand", _("In hand")
    RESOLVED = "resolved", _("Resolved (化解)")
    STALLED = "stalled", _("Stalled")
    TERMINATED = "terminated", _("Closed by lawful termination")


class WarningLevel(models.TextChoices):
    NONE = "none", _("On time")
    WARNING = "warning", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class Matter(models.Model):
    """A backlog matter (积案) handed down with 包案 (定人员、定案件、定时间、定结果) and its 个案台账."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="matters")
    case = models.ForeignKey(
        "petitions.Case", on_delete=models.PROTECT, related_name="campaign_matters"
    )
    # Who receives it: a lower center, or a department (either, not both).
    center = models.ForeignKey(
        Center,
        verbose_name=_("receiving center"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("receiving department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible leader"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_on = models.DateField(_("due on"))
    target_result = models.TextField(_("target result"))
    # The existing 包案 row the matter runs on (supervision.LeaderResponsibility), when one was made.
    responsibility = models.ForeignKey(
        "supervision.LeaderResponsibility",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # 个案台账: what, since when, what has been done, the obstacle, the next step.
    summary = models.TextField(_("the matter"), blank=True)
    since = models.DateField(_("petitioning since"), null=True, blank=True)
    work_done = models.TextField(_("what has been done"), blank=True)
    obstacle = models.TextField(_("obstacle"), blank=True)
    next_step = models.TextField(_("next step"), blank=True)
    outcome = models.CharField(
        _("state"), max_length=12, choices=MatterOutcome.choices, default=MatterOutcome.IN_HAND
    )
    resolution = models.TextField(_("how it was resolved"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    handed_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed down by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    handed_down_at = models.DateTimeField(_("handed down at"), default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed for by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    # Progress clock: the next progress entry is due on this day; the campaign sweep warns and
    # escalates (warning_level, escalation_step) as clocks' sweep does for other duties.
    next_progress_on = models.DateField(_("next progress report due"), null=True, blank=True)
    warning_level = models.CharField(
        max_length=10, choices=WarningLevel.choices, default=WarningLevel.NONE
    )
    escalation_step = models.PositiveSmallIntegerField(default=0)
    last_progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("backlog matter")
        verbose_name_plural = _("backlog matters")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "case"], name="matter_once_per_campaign"),
            models.CheckConstraint(
                condition=Q(center__isnull=True) | Q(department__isnull=True),
                name="matter_one_receiver",
            ),
        ]
        indexes = [
            # campaign summary and ledger: a campaign's matters by state
            models.Index(fields=["campaign", "outcome"], name="matter_campaign_idx"),
            # "handed down to us": a lower center's or a department's matters
            models.Index(fields=["center", "outcome"], name="matter_center_idx"),
            models.Index(fields=["department", "outcome"], name="matter_department_idx"),
            # the campaign sweep: open matters whose progress is due
            models.Index(
                fields=["next_progress_on"],
                name="matter_progress_due_idx",
                condition=Q(outcome__in=["in_hand", "stalled"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.case_id}"


class MatterProgress(models.Model):
    """A progress entry on a matter (进展): what was done and where it stands."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="progress")
    text = models.TextField(_("progress"))
    outcome = models.CharField(_("state"), max_length=12, choices=MatterOutcome.choices)
    obstacle = models.TextField(_("obstacle"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    submission_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("progress entry")
        verbose_name_plural = _("progress entries")
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            # a double submit of the same form is one entry
            models.UniqueConstraint(
                fields=["matter", "submission_key"],
                name="progress_submission_once",
                condition=~Q(submission_key=""),
            ),
        ]
        indexes = [
            # the matter's ledger: its entries, newest first
            models.Index(fields=["matter", "-recorded_at"], name="progress_matter_idx"),
        ]


# --- quality review (案件评查) -----------------------------------------------------------------


class ScoreSection(models.TextChoices):
    FACTS = "facts", _("Facts and evidence (事实证据)")
    LAW = "law", _("Law applied (法律适用)")
    PROCEDURE = "procedure", _("Procedure (程序)")
    DOCUMENTS = "documents", _("Documents (文书)")
    REPLY = "reply", _("Reply and return visits (答复与回访)")
    TIME_LIMITS = "time_limits", _("Time limits (时限)")


class ScoreSheet(models.Model):
    """A score sheet (评查评分表); ``center`` null is the default sheet, a center may keep its own."""

    name = models.CharField(_("name"), max_length=120)
    center = models.ForeignKey(
        Center, null=True, blank=True, on_delete=models.CASCADE, related_name="score_sheets"
    )
    is_active = models.BooleanField(_("active"), default=True)
    excellent_from = models.PositiveSmallIntegerField(_("优秀 from (points)"), default=90)
    pass_from = models.PositiveSmallIntegerField(_("合格 from (points)"), default=60)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")

    def __str__(self) -> str:
        return self.name


class ScoreItem(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(_("section"), max_length=20, choices=ScoreSection.choices)
    criterion = models.TextField(_("criterion"))
    points = models.PositiveSmallIntegerField(_("points"))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("score item")
        verbose_name_plural = _("score items")
        ordering = ["sheet", "sort_order", "pk"]


class SampledCase(models.Model):
    """A case drawn into a quality review, with the rule that drew it and its reviewers."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="samples")
    case = models.ForeignKey("petitions.Case", on_delete=models.PROTECT, related_name="+")
    # The department whose handling is reviewed (the lead department), for ranking and objections.
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.CharField(_("drawn by"), max_length=40)
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="review_samples"
    )
    sampled_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords(m2m_fields=[reviewers])

    class Meta:
        verbose_name = _("sampled case")
        verbose_name_plural = _("sampled cases")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "case"], name="sample_once"),
        ]


class ObjectionState(models.TextChoices):
    NONE = "none", _("No objection")
    PENDING = "pending", _("Objection pending")
    UPHELD = "upheld", _("Objection upheld")
    REJECTED = "rejected", _("Objection rejected")


class CaseReview(models.Model):
    """One reviewer's scores on one sampled case, and the reviewed department's one objection."""

    sample = models.ForeignKey(SampledCase, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    total = models.PositiveSmallIntegerField(_("total"))
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    objection = models.TextField(_("objection"), blank=True)
    objection_state = models.CharField(
        max_length=10, choices=ObjectionState.choices, default=ObjectionState.NONE
    )
    objected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("objected by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    objected_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The total after an upheld objection (null: the reviewer's total stands).
    adjusted_total = models.PositiveSmallIntegerField(_("adjusted total"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case review")
        verbose_name_plural = _("case reviews")
        constraints = [
            models.UniqueConstraint(fields=["sample", "reviewer"], name="review_once_per_reviewer"),
        ]

    @property
    def final_total(self) -> int:
        return self.adjusted_total if self.adjusted_total is not None else self.total


class ItemScore(models.Model):
    review = models.ForeignKey(CaseReview, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(ScoreItem, on_delete=models.PROTECT, related_name="+")
    points = models.PositiveSmallIntegerField(_("points"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="score_once_per_item"),
        ]
