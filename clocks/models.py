"""The clock engine (DOMAIN.md §5): the holiday calendar, the deadline rules as data, the clocks, the
escalation steps and the notification outbox.

Rules are rows, not constants, because provinces change them (Zhejiang: 5 working days to decide
acceptance, 30+60 days to handle); the national defaults are seeded by a data migration. Working
days follow the State Council's yearly holiday notice, which an administrator enters (or
``seed_holidays`` loads from the chinese_calendar package) as ``Holiday`` rows.

These models moved here from ``supervision``; their tables kept their names (``supervision_*``,
``Meta.db_table``), so the move changed no table (clocks/migrations/0001 is state-only).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center, Department
from core.roles import Role

# --- the holiday calendar ------------------------------------------------------------------------


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Day off (public holiday)")
    WORKDAY = "workday", _("Make-up working day (调休)")


class Holiday(models.Model):
    """A day that differs from the plain Monday-Friday week: a public holiday, or a weekend day
    turned into a working day by the yearly notice. Days without a row follow the weekday."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=HolidayKind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        db_table = "supervision_holiday"
        verbose_name = _("holiday or make-up working day")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]
        constraints = [
            # A make-up working day only means something on a Saturday or Sunday.
            models.CheckConstraint(
                condition=models.Q(kind=HolidayKind.HOLIDAY) | models.Q(date__iso_week_day__gte=6),
                name="holiday_workday_on_weekend",
            ),
        ]
        # No extra index: the unique constraint on ``date`` serves the range scan of
        # clocks.calendar (WHERE date BETWEEN ? AND ?).

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".rstrip()


class CalendarSource(models.TextChoices):
    CHINESE_CALENDAR = "chinese_calendar", _("chinese_calendar package")
    MANUAL = "manual", _("Entered by an administrator")


class CalendarYear(models.Model):
    """A year whose official holiday notice is in ``Holiday``. Working-day arithmetic in a year
    without a row falls back to plain weekends and marks the result provisional."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=20, choices=CalendarSource.choices)

    class Meta:
        db_table = "supervision_calendaryear"
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2200), name="calendaryear_sane_year"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


# --- deadline rules --------------------------------------------------------------------------------


class DeadlineCategory(models.TextChoices):
    """Whose time limit a clock is (DOMAIN.md §5).

    - A *duty* is an organ's obligation (screen, notify acceptance, handle, decide a review,
      answer a supervision order): supervised, warned, escalated and counted overdue.
    - A *window* is someone's right (the receiving organ's 5 working days to object to a
      transfer, the petitioner's 30 days to ask for review): shown to whoever holds the right;
      when it runs out the matter moves on (the assignment stands, the answer becomes final).
      A window closes, it is never anyone's overdue work: the sweep neither warns nor escalates
      it, the dashboard does not count it and it is not a case's "nearest deadline"."""

    DUTY = "duty", _("Duty (supervised)")
    WINDOW = "window", _("Window (a right that lapses)")


class DeadlineKind(models.TextChoices):
    """The clocks. Duties and windows are told apart by ``category`` (see DeadlineCategory):

    duties   SCREENING (15 days from registration, Art 22), ACCEPTANCE_NOTICE (15 days, Art 23),
             HANDLING (60 days from acceptance, +30 once, Art 34), REVIEW_DECISION and
             RE_REVIEW_DECISION (30 days from the request, Arts 35-36), SUPERVISION_ORDER
             (set by the supervisor), AID_DECISION (10 working days from a complete judicial
             aid application) and AID_PAYMENT (from its approval), EXTENSION (legacy, unused);
    windows  OBJECTION (the receiver's 5 working days to object, Art 23),
             REVIEW_REQUEST_WINDOW (the petitioner's 30 days from delivery of the written answer
             to ask for review or re-review, Arts 35-36), REVIEW_REQUEST (the older name of the
             same window, kept for rows written before the split).
    """

    SCREENING = "screening", _("Screening decision")
    OBJECTION = "objection", _("Objection to a transfer or assignment")
    ACCEPTANCE_NOTICE = "acceptance_notice", _("Written acceptance notice")
    HANDLING = "handling", _("Handling")
    REVIEW_REQUEST = "review_request", _("Request for review")
    REVIEW_REQUEST_WINDOW = "review_window", _("Time to ask for review or re-review")
    REVIEW_DECISION = "review_decision", _("Review decision")
    RE_REVIEW_DECISION = "re_review_decision", _("Re-review decision")
    SUPERVISION_ORDER = "supervision_order", _("Supervision order response")
    EXTENSION = "extension", _("Extension")
    # Judicial aid (司法救助, outreach): the organ decides within its time from a complete
    # application, and pays within its time from the approval (rules as data, DeadlineRule).
    AID_DECISION = "aid_decision", _("Judicial aid decision")
    AID_PAYMENT = "aid_payment", _("Judicial aid payment")

    @property
    def category(self) -> DeadlineCategory:
        return category_of(self.value)

    @property
    def is_window(self) -> bool:
        return self.value in WINDOW_KINDS


# The windows (someone's right); every other kind is a duty (an organ's supervised obligation).
WINDOW_KINDS: frozenset[str] = frozenset(
    {
        DeadlineKind.OBJECTION.value,
        DeadlineKind.REVIEW_REQUEST.value,
        DeadlineKind.REVIEW_REQUEST_WINDOW.value,
    }
)
DUTY_KINDS: frozenset[str] = frozenset(DeadlineKind.values) - WINDOW_KINDS
# Windows whose lapse has consequences an owning app records (the review window: the matter
# becomes final, appeals.tasks.finalise_lapsed_windows); the sweep leaves closing them to it.
# The sweep closes every other window that runs out (clocks.sweep).
WINDOWS_CLOSED_BY_OWNER: frozenset[str] = frozenset(
    {DeadlineKind.REVIEW_REQUEST.value, DeadlineKind.REVIEW_REQUEST_WINDOW.value}
)


def category_of(kind: str) -> DeadlineCategory:
    return DeadlineCategory.WINDOW if kind in WINDOW_KINDS else DeadlineCategory.DUTY


class DayType(models.TextChoices):
    CALENDAR = "calendar", _("Calendar days")
    WORKING = "working", _("Working days")


province_code_validator = RegexValidator(
    r"^\d{2}0000$", _("A province region code is six digits ending in 0000 (GB/T 2260).")
)


class DeadlineRule(models.Model):
    """How long a clock runs. ``province_region_code`` blank is the national default; a province's
    code overrides it for every center in that province."""

    kind = models.CharField(_("kind"), max_length=20, choices=DeadlineKind.choices)
    province_region_code = models.CharField(
        _("province region code"),
        max_length=6,
        blank=True,
        validators=[province_code_validator],
        help_text=_("Leave blank for the national default."),
    )
    length = models.PositiveSmallIntegerField(_("length"))
    day_type = models.CharField(_("day type"), max_length=10, choices=DayType.choices)
    basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    max_extension_days = models.PositiveSmallIntegerField(_("maximum extension (days)"), default=0)

    class Meta:
        db_table = "supervision_deadlinerule"
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        ordering = ["kind", "province_region_code"]
        constraints = [
            # rule_for(): WHERE kind=? AND province_region_code IN ('', ?) is served by this index
            models.UniqueConstraint(
                fields=["kind", "province_region_code"], name="deadlinerule_unique_kind_province"
            ),
            models.CheckConstraint(
                condition=models.Q(province_region_code="")
                | models.Q(province_region_code__regex=r"^[0-9]{2}0000$"),
                name="deadlinerule_province_code_format",
            ),
        ]

    @property
    def category(self) -> DeadlineCategory:
        return category_of(self.kind)

    def __str__(self) -> str:
        scope = self.province_region_code or _("national")
        return f"{self.get_kind_display()} ({scope}): {self.length} {self.get_day_type_display()}"


# --- the clocks ------------------------------------------------------------------------------------


class WarningLevel(models.TextChoices):
    ON_TIME = "on_time", _("On time")
    APPROACHING = "approaching", _("Approaching")
    SEVERE = "severe", _("Due within a day")
    OVERDUE = "overdue", _("Overdue")


class DeadlineQuerySet(models.QuerySet["Deadline"]):
    def duties(self) -> DeadlineQuerySet:
        """The organs' obligations: what is supervised, warned, escalated, counted overdue."""
        return self.filter(kind__in=sorted(DUTY_KINDS))

    def windows(self) -> DeadlineQuerySet:
        """Someone's right to act within a time (see DeadlineCategory)."""
        return self.filter(kind__in=sorted(WINDOW_KINDS))


class Deadline(models.Model):
    """One running clock on a case, optionally per assignment (per-department clock). ``basis``
    and ``day_type`` are copied from the rule so a later rule edit does not rewrite history.

    A duty is met (``met_at``) when the organ acts; a window is closed (``met_at`` set too) when
    the right is used or, by the sweep, at its due time when it runs out unused."""

    objects = DeadlineQuerySet.as_manager()

    # No separate FK index: the (case, kind) index below starts with case_id and serves it.
    case = models.ForeignKey(
        "petitions.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="deadlines",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DeadlineKind.choices)
    # Keeps Django's FK index: deleting a rule in the admin finds its clocks to SET NULL.
    rule = models.ForeignKey(
        DeadlineRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    day_type = models.CharField(_("day type"), max_length=10, choices=DayType.choices)
    starts_at = models.DateTimeField(_("starts at"))
    due_at = models.DateTimeField(_("due at"))
    is_provisional = models.BooleanField(
        _("provisional"),
        default=False,
        help_text=_("Computed without the official holiday calendar for that year."),
    )
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_days = models.PositiveIntegerField(_("days paused"), default=0)
    extended_days = models.PositiveIntegerField(_("days extended"), default=0)
    extension_reason = models.TextField(_("reason for extension"), blank=True)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    warning_level = models.CharField(
        _("warning level"),
        max_length=12,
        choices=WarningLevel.choices,
        default=WarningLevel.ON_TIME,
    )
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True)
    escalation_step = models.PositiveSmallIntegerField(_("escalation step"), default=0)
    # routing.Assignment id for per-department clocks; a plain integer so that changes to the
    # routing models do not ripple into this table.
    assignment_id = models.BigIntegerField(_("assignment"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # The sweep writes a history row per change: keep the historical table's indexes to the ones
    # the history pages use (history id and date, and the object id); no per-FK indexes.
    history = HistoricalRecords(
        no_db_index=["case", "rule"], table_name="supervision_historicaldeadline"
    )

    class Meta:
        db_table = "supervision_deadline"
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        constraints = [
            # open_deadline(): at most one running clock per (case, kind, assignment); a NULL
            # assignment is one key, not many (NULLS NOT DISTINCT, PostgreSQL 15+). Its index
            # also serves the open-deadline lookups of open_deadline()/meet_deadline().
            models.UniqueConstraint(
                fields=["case", "kind", "assignment_id"],
                condition=models.Q(met_at__isnull=True),
                nulls_distinct=False,
                name="deadline_one_open_per_key",
            ),
            models.CheckConstraint(
                condition=models.Q(due_at__gte=models.F("starts_at")),
                name="deadline_due_after_start",
            ),
        ]
        indexes = [
            # deadline sweep: open clocks by due date, batch after batch (WHERE met_at IS NULL
            # AND (due_at, id) > (last batch's) ORDER BY due_at, id); dashboard at-risk list
            # (due_at <= look-ahead). Neither column is changed by the sweep: its updates stay HOT.
            models.Index(
                fields=["due_at", "id"],
                name="deadline_open_due_idx",
                condition=models.Q(met_at__isnull=True),
            ),
            # case page and refresh_case_next_due(): a case's clocks, by kind
            models.Index(fields=["case", "kind"], name="deadline_case_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.met_at is None

    @property
    def category(self) -> DeadlineCategory:
        return category_of(self.kind)

    @property
    def is_window(self) -> bool:
        return self.kind in WINDOW_KINDS


# --- escalation and notifications ----------------------------------------------------------------


class EscalationStep(models.Model):
    """Who is told when a clock stays overdue: step 1 the department head at once, step 2 the
    supervisor after 2 more days, step 3 the leader after 5 (defaults; administrator-edited)."""

    step = models.PositiveSmallIntegerField(_("step"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    after_days = models.PositiveSmallIntegerField(_("days overdue"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "supervision_escalationstep"
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["step"]

    def __str__(self) -> str:
        return f"{self.step}: {self.get_role_display()} (+{self.after_days})"


class NotificationKind(models.TextChoices):
    WARNING = "warning", _("Deadline approaching")
    OVERDUE = "overdue", _("Deadline overdue")
    ESCALATION = "escalation", _("Escalation")
    REMINDER = "reminder", _("Reminder (催办)")
    SUPERVISION_ORDER = "supervision_order", _("Supervision order")
    EVENT = "event", _("Case event")
    DIGEST = "digest", _("Daily digest")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("No e-mail address")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """An in-app message and an e-mail outbox row (STYLE.md: what must be delivered is a row first).

    Addressed either to one user or to an audience (a role at a center, optionally one
    department), so the set-based sweep writes one row per event, not one per person. E-mail is
    sent after commit by Celery (``deliver_pending_notifications``); a broker outage only delays it.
    ``dedupe_key`` makes the sweep idempotent: the same warning or escalation is written once."""

    # The sweep inserts these rows in bulk: FK indexes are left to the composite indexes below,
    # and the database-level FK checks (deferred to commit, one per row and column) are left out,
    # which halves the sweep's commit time. Django's on_delete still cascades; the outbox holds
    # no data of its own that an orphan could corrupt.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
        db_constraint=False,
    )
    audience_center = models.ForeignKey(
        Center,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    audience_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    audience_role = models.CharField(max_length=20, blank=True, choices=Role.choices)
    # No index of its own: no query reads the outbox by case (the inbox reads by recipient or
    # audience, delivery by state); only deleting a case (never done outside the benchmarks)
    # looks its rows up.
    case = models.ForeignKey(
        "petitions.Case",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivery = models.CharField(
        _("e-mail"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)

    class Meta:
        db_table = "supervision_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        # Every index here is written by each outbox row the sweep inserts (one per warning and per
        # escalation step); each one serves a named query, and rows that query never reads are
        # left out of it (partial indexes).
        constraints = [
            # idempotent sweep and digests: INSERT ... ON CONFLICT (dedupe_key) WHERE dedupe_key
            # IS NOT NULL DO NOTHING (clocks.sweep, clocks.notify.write_daily_digests); event
            # notifications have no key and stay out of the index.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="notif_dedupe_on_conflict_uniq",
            ),
        ]
        indexes = [
            # outbox delivery, clocks.notify.deliver_pending: WHERE delivery='pending' ORDER BY id
            # (partial, stays small)
            models.Index(
                fields=["id"],
                name="notification_pending_idx",
                condition=models.Q(delivery="pending"),
            ),
            # inbox, clocks.notify.notifications_for: recipient_id = user ORDER BY created_at DESC;
            # rows addressed to an audience have no recipient and are not in it
            models.Index(
                fields=["recipient", "-created_at"],
                name="notif_inbox_recipient_idx",
                condition=models.Q(recipient__isnull=False),
            ),
            # inbox, clocks.notify.notifications_for: audience_center = user's center AND role IN
            # (...) [AND department], newest first; rows addressed to one person are not in it
            models.Index(
                fields=["audience_center", "audience_role", "audience_department", "-created_at"],
                name="notif_inbox_audience_idx",
                condition=models.Q(audience_center__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationRead(models.Model):
    """Who has read a notification. Per user, because one notification addressed to an audience
    (all triage staff of a center) is read by each of them separately."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        db_table = "supervision_notificationread"
        verbose_name = _("notification read")
        verbose_name_plural = _("notification reads")
        constraints = [
            # inbox and badge: EXISTS(read WHERE notification_id=? AND user_id=?)
            models.UniqueConstraint(
                fields=["notification", "user"], name="notificationread_unique"
            ),
        ]
