"""Outreach records (DOMAIN.md §8 "Going to the people", "Judicial aid"; issue 20).

- Tour (带案巡视): a higher center's team tours a lower center carrying cases; on site it holds
  receptions (petitions.Visit rows received by the tour's leader), meetings (supervision's
  Consultation) and leaves an instruction per carried case, supervised as a 督办 (supervision's
  SupervisionOrder). The report lists per case what was found, decided and instructed.
- Outreach (下访 / 约访): a visit to the petitioner, or an appointment inviting them, on the case.
- Reception days (领导接访日) are intake.LeaderDuty rows (the desk reads them); this app keeps the
  schedule and counts the visits received by leaders (petitions.Visit.received_by_leader).
- AidApplication (司法救助): applied, complete (the decision clock starts), decided by the organ's
  head (and, above the threshold of the year's rule, approved by a leader), paid. Never
  conditional on giving up a petition or a review: there is no such field, on purpose.
- Message: a text message to the petitioner, an outbox row sent by the worker after commit.

Rows users change keep history and a ``version`` (stale writes: 409).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center, Department

# --- 带案巡视 --------------------------------------------------------------------------------------


class TourState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ON_SITE = "on_site", _("On site")
    REPORTED = "reported", _("Reported")


class Tour(models.Model):
    title = models.CharField(_("title"), max_length=120)
    center = models.ForeignKey(
        Center, verbose_name=_("touring center"), on_delete=models.PROTECT, related_name="+"
    )
    target_center = models.ForeignKey(
        Center, verbose_name=_("center visited"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tour leader"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="tour_memberships",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=TourState.choices, default=TourState.PLANNED
    )
    summary = models.TextField(_("overall findings"), blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
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
        verbose_name = _("tour carrying cases")
        verbose_name_plural = _("tours carrying cases")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="tour_period_order"
            ),
        ]
        indexes = [
            # tour lists: a center's tours and the tours to a center, newest first
            models.Index(fields=["center", "-starts_on"], name="tour_center_idx"),
            models.Index(fields=["target_center", "-starts_on"], name="tour_target_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class TourCase(models.Model):
    """A case the tour carries: what was found, what was decided, the instruction left (with its
    due date, supervised as a 督办 through supervision's order)."""

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="carried")
    case = models.ForeignKey("petitions.Case", on_delete=models.PROTECT, related_name="+")
    # Picked from a campaign's backlog (campaigns.Matter), when it was.
    matter = models.ForeignKey(
        "campaigns.Matter", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    findings = models.TextField(_("found"), blank=True)
    decision = models.TextField(_("decided"), blank=True)
    instruction = models.TextField(_("instruction"), blank=True)
    instruction_due = models.DateField(_("instruction due"), null=True, blank=True)
    order = models.ForeignKey(
        "supervision.SupervisionOrder",
        verbose_name=_("supervision order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("carried case")
        verbose_name_plural = _("carried cases")
        ordering = ["tour", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tour", "case"], name="tourcase_once"),
        ]


class TourReception(models.Model):
    """A reception held on the tour: the visit (on the case, received by the leader)."""

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="receptions")
    visit = models.OneToOneField(
        "petitions.Visit", on_delete=models.CASCADE, related_name="tour_reception"
    )


class TourMeeting(models.Model):
    """A meeting held on the tour (会诊 / 协调会): supervision's Consultation on a carried case."""

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="meetings")
    consultation = models.OneToOneField(
        "supervision.Consultation", on_delete=models.CASCADE, related_name="tour_meeting"
    )


# --- 下访 and 约访 ----------------------------------------------------------------------------------


class OutreachKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("Visit to the petitioner (下访)")
    APPOINTMENT = "appointment", _("Appointment (约访)")


class PlaceKind(models.TextChoices):
    HOME = "home", _("Home")
    VILLAGE = "village", _("Village or community")
    WORKPLACE = "workplace", _("Workplace")
    CENTER = "center", _("Reception center")
    OTHER = "other", _("Other")


class OutreachState(models.TextChoices):
    DONE = "done", _("Done")  # a 下访 is recorded once it happened
    SCHEDULED = "scheduled", _("Scheduled")
    KEPT = "kept", _("Kept")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class Outreach(models.Model):
    case = models.ForeignKey("petitions.Case", on_delete=models.CASCADE, related_name="outreach")
    kind = models.CharField(_("kind"), max_length=12, choices=OutreachKind.choices)
    at = models.DateTimeField(_("time"))
    place = models.CharField(_("place"), max_length=200)
    place_kind = models.CharField(
        _("kind of place"), max_length=10, choices=PlaceKind.choices, default=PlaceKind.HOME
    )
    # The leader who went (or receives the appointment); null: staff only.
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    participants = models.TextField(_("with whom"), blank=True)
    notes = models.TextField(_("what the petitioner said"), blank=True)
    agreed = models.TextField(_("what was agreed"), blank=True)
    next_step = models.TextField(_("next step"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=OutreachState.choices)
    # The visit recorded when the petitioner came to the appointment.
    visit = models.OneToOneField(
        "petitions.Visit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointment",
    )
    reminded_at = models.DateTimeField(_("officer reminded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    submission_key = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit or appointment")
        verbose_name_plural = _("visits and appointments")
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "submission_key"],
                name="outreach_submission_once",
                condition=~Q(submission_key=""),
            ),
        ]
        indexes = [
            # the case page: its visits and appointments, newest first
            models.Index(fields=["case", "-at"], name="outreach_case_idx"),
            # reports: 下访 / 约访 counts by period (and by leader)
            models.Index(fields=["kind", "at"], name="outreach_kind_at_idx"),
            # the reminder task: appointments still scheduled, by time
            models.Index(
                fields=["at"],
                name="outreach_scheduled_idx",
                condition=Q(state="scheduled"),
            ),
        ]


# --- 司法救助 ---------------------------------------------------------------------------------------


class AidCircumstance(models.TextChoices):
    UNENFORCED_JUDGMENT = "unenforced", _("A judgment that could not be enforced")
    CRIME_VICTIM = "crime_victim", _("A victim of crime left without compensation")
    OTHER = "other", _("Other hardship")


class AidState(models.TextChoices):
    APPLIED = "applied", _("Applied (materials incomplete)")
    COMPLETE = "complete", _("Complete, to decide")
    AWAITING_LEADER = "awaiting_leader", _("Granted, awaiting the leader's approval")
    GRANTED = "granted", _("Granted, to pay")
    REFUSED = "refused", _("Refused")
    PAID = "paid", _("Paid")


class AidApplication(models.Model):
    case = models.ForeignKey(
        "petitions.Case", on_delete=models.PROTECT, related_name="aid_applications"
    )
    applicant = models.ForeignKey(
        "petitions.Petitioner",
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    circumstance = models.CharField(
        _("circumstances"), max_length=15, choices=AidCircumstance.choices
    )
    circumstances = models.TextField(_("account of the circumstances"))
    # The deciding organ: the department that handled the underlying matter.
    department = models.ForeignKey(
        Department,
        verbose_name=_("deciding organ"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_amount = models.DecimalField(
        _("amount requested (yuan)"), max_digits=12, decimal_places=2
    )
    state = models.CharField(
        _("state"), max_length=16, choices=AidState.choices, default=AidState.APPLIED
    )
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    completed_at = models.DateTimeField(_("materials complete at"), null=True, blank=True)
    # The cap at decision time (the rule's 36 months × the wage), kept as it was applied.
    cap_amount = models.DecimalField(
        _("cap (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(
        _("amount granted (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    reasons = models.TextField(_("reasons"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by (leader)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=40, blank=True)
    paid_amount = models.DecimalField(
        _("amount paid (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    voucher = models.ForeignKey(
        "petitions.Attachment",
        verbose_name=_("voucher"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submission_key = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("judicial aid application")
        verbose_name_plural = _("judicial aid applications")
        ordering = ["-applied_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "submission_key"],
                name="aid_submission_once",
                condition=~Q(submission_key=""),
            ),
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="aid_requested_gt_0"),
        ]
        indexes = [
            # the case page: its applications
            models.Index(fields=["case", "-applied_at"], name="aid_case_idx"),
            # the aid ledger and reports: by organ and period
            models.Index(fields=["department", "applied_at"], name="aid_department_idx"),
            models.Index(fields=["state", "applied_at"], name="aid_state_idx"),
        ]


class EligibilityQuestion(models.Model):
    """One item of the eligibility checklist (data, edited by an administrator)."""

    text = models.CharField(_("question"), max_length=300)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("eligibility question")
        verbose_name_plural = _("eligibility checklist")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.text


class EligibilityAnswer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Not established")


class EligibilityCheck(models.Model):
    application = models.ForeignKey(
        AidApplication, on_delete=models.CASCADE, related_name="eligibility"
    )
    question = models.ForeignKey(EligibilityQuestion, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("answer"), max_length=10, choices=EligibilityAnswer.choices)
    reason = models.TextField(_("reason"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "question"], name="eligibility_once_per_question"
            ),
        ]


class AidCapRule(models.Model):
    """The cap of a province's year: ``months`` × the place's average monthly wage of the previous
    year (default 36 months, the 2014 national opinions), and the amount above which a leader
    approves. Entered by an administrator."""

    province_region_code = models.CharField(_("province (region code)"), max_length=6)
    year = models.PositiveSmallIntegerField(_("year"))
    average_monthly_wage = models.DecimalField(
        _("average monthly wage of the previous year (yuan)"), max_digits=10, decimal_places=2
    )
    months = models.PositiveSmallIntegerField(_("months"), default=36)
    leader_threshold = models.DecimalField(
        _("leader approves above (yuan)"), max_digits=12, decimal_places=2, default=50000
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("judicial aid cap")
        verbose_name_plural = _("judicial aid caps")
        constraints = [
            models.UniqueConstraint(
                fields=["province_region_code", "year"], name="aidcap_once_per_year"
            ),
        ]

    @property
    def cap(self) -> Decimal:
        return self.average_monthly_wage * self.months


# --- messages to the petitioner ---------------------------------------------------------------------


class MessageKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt and query code")
    ASSIGNMENT = "assignment", _("Case assigned")
    REPLY_READY = "reply_ready", _("Reply ready, evaluation link")
    REVIEW_WINDOW = "review_window", _("Last week to ask for review")
    APPOINTMENT = "appointment", _("Appointment")
    AID_RESULT = "aid_result", _("Judicial aid result")


class MessageTemplate(models.Model):
    """A message's text (data, in Chinese, edited by an administrator), with placeholders."""

    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices, unique=True)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.get_kind_display()


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    OPTED_OUT = "opted_out", _("Not sent: the person opted out")


class Message(models.Model):
    """One text message to a person: an outbox row, written in the transaction of what caused
    it, sent by the worker after commit. The text may carry a secret (the query code, the
    evaluation link), so it is kept encrypted (core.pii); the number is read from the person and
    decrypted only in the worker at send time. ``dedupe_key`` makes every cause send once."""

    case = models.ForeignKey(
        "petitions.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    petitioner = models.ForeignKey(
        "petitions.Petitioner", on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices)
    body_enc = models.TextField(editable=False)
    # What the timeline shows: the text with its secrets masked, and the masked number.
    body_masked = models.TextField(_("text"))
    phone_masked = models.CharField(_("phone"), max_length=30, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=MessageState.choices, default=MessageState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    gateway_id = models.CharField(max_length=100, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # the sender: queued messages due now (a partial index stays small)
            models.Index(
                fields=["next_attempt_at"],
                name="message_queued_idx",
                condition=Q(state="queued"),
            ),
            # the case's messages, newest first
            models.Index(fields=["case", "-created_at"], name="message_case_idx"),
        ]
