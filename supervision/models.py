"""The supervision overlays (DOMAIN.md §4 "Overlays at any open stage"): supervision orders,
leader responsibility, key-case consultations, accountability findings, bulletins and extension
requests. The clocks they run on live in the lower app ``clocks``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clocks.models import Deadline
from core.models import Center, Department

# --- supervision overlays (DOMAIN.md §4 "Overlays at any open stage") ---------------------------


class OrderState(models.TextChoices):
    OPEN = "open", _("Awaiting response")
    RESPONDED = "responded", _("Responded")
    CLOSED = "closed", _("Closed")


class SupervisionOrder(models.Model):
    """督办单: a supervisor's order on a case with a due date and a required written response."""

    case = models.ForeignKey(
        "petitions.Case", on_delete=models.CASCADE, related_name="supervision_orders"
    )
    number = models.CharField(_("order number"), max_length=40, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requirement = models.TextField(_("requirement"))
    due_at = models.DateTimeField(_("response due"))
    state = models.CharField(
        _("state"), max_length=12, choices=OrderState.choices, default=OrderState.OPEN
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    response = models.TextField(_("written response"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        indexes = [
            # case page and dashboard: open orders of a case
            models.Index(fields=["case", "state"], name="order_case_state_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class LeaderResponsibility(models.Model):
    """包案: a named leader answers for a key case, with a handler, a due date and a target result."""

    case = models.ForeignKey(
        "petitions.Case", on_delete=models.CASCADE, related_name="leader_responsibilities"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
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
    due_at = models.DateTimeField(_("due"))
    target_result = models.TextField(_("target result"))
    is_resolved = models.BooleanField(_("resolved"), default=False)
    result = models.TextField(_("result"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("leader responsibility")
        verbose_name_plural = _("leader responsibilities")
        indexes = [
            # reports: 包案化解率 per leader
            models.Index(fields=["leader", "is_resolved"], name="leaderresp_leader_idx"),
        ]


class Consultation(models.Model):
    """会诊: a meeting of several organs on a key case, with the decisions recorded."""

    case = models.ForeignKey(
        "petitions.Case", on_delete=models.CASCADE, related_name="consultations"
    )
    held_at = models.DateTimeField(_("held at"))
    departments = models.ManyToManyField(
        Department, verbose_name=_("organs present"), related_name="+"
    )
    participants = models.TextField(_("participants"), blank=True)
    decisions = models.TextField(_("decisions"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("key-case consultation")
        verbose_name_plural = _("key-case consultations")


class AccountabilityFinding(models.Model):
    """责任倒查: a finding against the officer or department that failed."""

    case = models.ForeignKey(
        "petitions.Case", on_delete=models.CASCADE, related_name="accountability_findings"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("officer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finding = models.TextField(_("finding"))
    measures = models.TextField(_("measures taken"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("accountability finding")
        verbose_name_plural = _("accountability findings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=False) | models.Q(officer__isnull=False),
                name="finding_names_someone",
            ),
        ]


class Bulletin(models.Model):
    """通报: a notice naming units that handled cases badly."""

    center = models.ForeignKey(
        Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    departments = models.ManyToManyField(
        Department, verbose_name=_("units named"), related_name="+"
    )
    cases = models.ManyToManyField(
        "petitions.Case", verbose_name=_("cases"), related_name="bulletins", blank=True
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ExtensionRequest(models.Model):
    """Art 34: one extension of at most 30 days, requested by the officer, approved by the head."""

    case = models.ForeignKey(
        "petitions.Case", on_delete=models.CASCADE, related_name="extension_requests"
    )
    deadline = models.ForeignKey(
        Deadline, on_delete=models.CASCADE, related_name="extension_requests"
    )
    days = models.PositiveSmallIntegerField(_("days"))
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        indexes = [
            # the department head's inbox: pending requests (supervision.selectors
            # pending_extensions_for), a handful among all the requests ever made
            models.Index(
                fields=["requested_at"],
                condition=models.Q(state="pending"),
                name="extension_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days__gte=1, days__lte=30), name="extension_at_most_30_days"
            ),
            # once: one non-rejected request per clock
            models.UniqueConstraint(
                fields=["deadline"],
                condition=~models.Q(state="rejected"),
                name="extension_once_per_deadline",
            ),
        ]


# --- kept counters of the dashboard (issue 21 §1, supervision.counters) ----------------------------


class AtRiskClock(models.Model):
    """One running duty at approaching, severe or overdue on an open case, with who answers for it
    (its own assignment, else the case's active lead; 0 = none yet) and the case's center and
    law-related flag: the last state supervision.counters counted for the case. Replaced case by
    case by ``supervision_refresh_case_risk``; never written by Python."""

    deadline_id = models.BigIntegerField()
    case_id = models.BigIntegerField()
    center_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    handler_id = models.BigIntegerField()
    level = models.CharField(max_length=16)
    is_law_related = models.BooleanField()
    due_at = models.DateTimeField()

    class Meta:
        verbose_name = _("at-risk clock (kept)")
        verbose_name_plural = _("at-risk clocks (kept)")
        indexes = [
            # the refresh of a case's rows: WHERE case_id = ANY(?)
            models.Index(fields=["case_id"], name="atriskclock_case_idx"),
        ]


class DashboardCount(models.Model):
    """Kept dashboard figures per center, as append-only deltas summed when read (the same scheme
    as petitions.CaseStateCount): ``dimension`` c = the center's cases, l = its law-related cases,
    d = per answering department (key = department id, 0 = none), h = per handler (key = user id,
    0 = none), each at ``level`` overdue/severe/approaching/total and counting distinct cases;
    a = overdue clocks by due time (key = due_at in microseconds since the epoch), for the aging
    buckets, which depend on the time of reading."""

    center_id = models.BigIntegerField()
    dimension = models.CharField(max_length=1)
    key = models.BigIntegerField()
    level = models.CharField(max_length=16)
    count = models.IntegerField()

    class Meta:
        verbose_name = _("kept dashboard count")
        verbose_name_plural = _("kept dashboard counts")
        indexes = [
            # the dashboard: SUM(count) WHERE center_id = ANY(visible centers) GROUP BY dimension, key, level
            models.Index(
                fields=["center_id", "dimension", "key", "level"],
                name="dashcount_center_idx",
                include=["count"],
            ),
        ]


class RiskRefreshPending(models.Model):
    """Cases whose kept dashboard rows the sweep could not refresh at once because another
    transaction was refreshing the same case (supervision.counters): refreshed by the next
    compaction, minutes later."""

    case_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("pending dashboard refresh")
        verbose_name_plural = _("pending dashboard refreshes")
