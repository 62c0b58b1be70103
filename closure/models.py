"""反馈 and 访结 (DOMAIN.md §4): the written reply (信访处理意见书, Arts 32-33), its delivery, the
petitioner's evaluation, return visits (回访), closure, archive and reopening.

All writes go through closure.services. The case's own state lives on petitions.Case; these
tables hold what the reply and the closing of a file add to it (the contract in
notes/CLOSURE_CONTRACT.md: appeals and reports read them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center, Department


class ReplyDecision(models.TextChoices):
    # Art 32 (1)-(3)
    SUPPORT = "support", _("Supported")
    EXPLAIN = "explain", _("Explained")
    NOT_SUPPORT = "not_support", _("Not supported")


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting approval")
    APPROVED = "approved", _("Approved, awaiting delivery")
    DELIVERED = "delivered", _("Delivered")


class DeliveryMethod(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    POST = "post", _("By post")
    OTHER = "other", _("Other")


class AgreementKind(models.TextChoices):
    # Art 33: 调解协议书 / 和解协议书
    MEDIATION = "mediation", _("Mediation agreement")
    SETTLEMENT = "settlement", _("Settlement agreement")


class Reply(models.Model):
    """The written reply of the lead department. One current reply per case (``superseded_at``
    is set when a reopened case gets a new one); its text is frozen once approved."""

    case = models.ForeignKey(
        "petitions.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="replies"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        on_delete=models.PROTECT,
        related_name="replies",
    )
    # Blank only on a case closed by a mediation or settlement agreement (Art 33).
    decision = models.CharField(
        _("decision"), max_length=12, choices=ReplyDecision.choices, blank=True
    )
    request_summary = models.TextField(_("the petitioner's request"), blank=True)
    facts_reasons = models.TextField(_("facts and reasons"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    review_route = models.TextField(_("route and time limit for review"), blank=True)
    contributions = models.TextField(_("contributions of assisting departments"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT
    )
    document_number = models.CharField(
        _("document number"), max_length=40, null=True, blank=True, unique=True
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drafted_at = models.DateTimeField(_("drafted at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    sent_back_reason = models.TextField(_("reason for sending back"), blank=True)
    sent_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_back_at = models.DateTimeField(_("sent back at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_method = models.CharField(
        _("delivery method"), max_length=10, choices=DeliveryMethod.choices, blank=True
    )
    signed = models.BooleanField(
        _("signed for"),
        null=True,
        blank=True,
        help_text=_("False: the petitioner refused to sign."),
    )
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delivered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivery_note = models.TextField(_("delivery note"), blank=True)
    mediated = models.BooleanField(_("closed by agreement"), default=False)
    agreement_kind = models.CharField(
        _("agreement"), max_length=12, choices=AgreementKind.choices, blank=True
    )
    agreement = models.ForeignKey(
        "petitions.Attachment",
        verbose_name=_("agreement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("written reply")
        verbose_name_plural = _("written replies")
        constraints = [
            # current_reply(): one reply per case that is not superseded
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(superseded_at__isnull=True),
                name="reply_one_current_per_case",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="delivered") | models.Q(delivered_at__isnull=False),
                name="reply_delivered_has_date",
            ),
        ]
        indexes = [
            # closure inbox: a department's replies waiting in a status
            models.Index(fields=["department", "status"], name="reply_dept_status_idx"),
        ]

    def __str__(self) -> str:
        return self.document_number or f"{self.case_id} ({self.get_status_display()})"


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


SATISFIED_RATINGS = frozenset({Rating.SATISFIED, Rating.BASICALLY_SATISFIED})


class EvaluationChannel(models.TextChoices):
    DESK = "desk", _("At the desk")
    PHONE = "phone", _("By phone")
    LINK = "link", _("Through the evaluation link")
    RETURN_VISIT = "return_visit", _("At a return visit")


class Evaluation(models.Model):
    """The petitioner's verdict on a delivered reply: on the center and on the lead department.
    Given at the desk or by phone (recorded by staff on the petitioner's behalf), or through the
    one-time link. One first evaluation per reply; a return visit may record a new one, and the
    latest counts (closure.selectors.evaluation_for)."""

    case = models.ForeignKey(
        "petitions.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    reply = models.ForeignKey(
        Reply,
        verbose_name=_("written reply"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evaluations",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    center_rating = models.CharField(
        _("rating of the center"), max_length=20, choices=Rating.choices
    )
    department_rating = models.CharField(
        _("rating of the department"), max_length=20, choices=Rating.choices
    )
    reasons = models.TextField(_("reasons"), blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=EvaluationChannel.choices)
    given_by = models.CharField(
        _("given by"), max_length=50, blank=True, help_text=_("Who gave it, if not the petitioner.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            # a double submit (desk, phone or link) records the first evaluation once
            models.UniqueConstraint(
                fields=["reply"],
                condition=~models.Q(channel="return_visit"),
                name="evaluation_one_first_per_reply",
            ),
        ]
        indexes = [
            # evaluation_for() and the case page: a case's evaluations, newest first
            models.Index(fields=["case", "-evaluated_at"], name="evaluation_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.get_center_rating_display()}"

    @property
    def is_dissatisfied(self) -> bool:
        return Rating.DISSATISFIED in (self.center_rating, self.department_rating)


class EvaluationLink(models.Model):
    """The one-time evaluation link printed (as a QR code) on the reply. Only a hash of the token
    is stored; the token itself is an HMAC of ``salt`` under SECRET_KEY, so staff can print the
    reply again, but a copy of the database alone opens no link (closure.tokens)."""

    case = models.ForeignKey("petitions.Case", on_delete=models.CASCADE, related_name="+")
    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="evaluation_link")
    salt = models.CharField(max_length=32, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    # Set on delivery: the link opens from then until the evaluation window ends.
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation link")
        verbose_name_plural = _("evaluation links")

    def __str__(self) -> str:
        return f"{self.case_id} ({self.created_at:%Y-%m-%d})"


class ReturnVisitMethod(models.TextChoices):
    PHONE = "phone", _("By phone")
    HOME = "home", _("Home visit")
    INVITED = "invited", _("Invited to the center")
    OTHER = "other", _("Other")


class ReturnVisitReason(models.TextChoices):
    DISSATISFIED = "dissatisfied", _("Dissatisfied evaluation")
    ROUTINE = "routine", _("Routine follow-up")


class ReturnVisit(models.Model):
    """回访: scheduled for the lead department (automatically after a dissatisfied evaluation) and
    recorded when done (date, who, how, outcome)."""

    case = models.ForeignKey(
        "petitions.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="return_visits",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnVisitReason.choices)
    evaluation = models.ForeignKey(
        Evaluation,
        verbose_name=_("evaluation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="return_visits",
    )
    scheduled_for = models.DateField(_("scheduled for"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    done_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    visitors = models.CharField(_("who visited"), max_length=100, blank=True)
    method = models.CharField(
        _("how"), max_length=10, choices=ReturnVisitMethod.choices, blank=True
    )
    outcome = models.TextField(_("outcome"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        indexes = [
            # closure inbox: a department's return visits still to do, soonest first
            models.Index(
                fields=["department", "scheduled_for"],
                name="returnvisit_due_idx",
                condition=models.Q(done_at__isnull=True),
            ),
            # case page: a case's return visits
            models.Index(fields=["case", "scheduled_for"], name="returnvisit_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.scheduled_for}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class ReexaminationOutcome(models.TextChoices):
    # the seed's categories for re-examined old cases
    WHOLLY_WRONG_CORRECTED = "wholly_wrong_corrected", _("Wholly wrong, wholly corrected")
    PARTLY_WRONG_PARTLY_CORRECTED = (
        "partly_wrong_partly_corrected",
        _("Partly wrong, partly corrected"),
    )
    RIGHT_UPHELD = "right_upheld", _("Right, upheld")


class Correction(models.TextChoices):
    DECISION_REVOKED = "decision_revoked", _("Decision revoked")
    COMPENSATION_PAID = "compensation_paid", _("Compensation paid")
    DISCIPLINARY_STEP = "disciplinary_step", _("Disciplinary step taken")


class CaseClosure(models.Model):
    """How a case's file ends: closed, archived (with its archive number), reopened; and for a
    re-examined old case, the outcome and the corrections made."""

    case = models.OneToOneField(
        "petitions.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="closure"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    close_note = models.TextField(_("closing note"), blank=True)
    archive_number = models.CharField(
        _("archive number"), max_length=40, null=True, blank=True, unique=True
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("archived by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    archive_override_reason = models.TextField(
        _("reason for archiving without a satisfied evaluation"), blank=True
    )
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reopened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    reexamination_outcome = models.CharField(
        _("re-examination outcome"),
        max_length=40,
        choices=ReexaminationOutcome.choices,
        blank=True,
    )
    # Correction values (several may apply), a JSON list.
    corrections = models.JSONField(_("corrections made"), default=list, blank=True)
    correction_note = models.TextField(_("correction details"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case closure")
        verbose_name_plural = _("case closures")

    def __str__(self) -> str:
        return self.archive_number or str(self.case_id)

    def get_corrections_display(self) -> list[str]:
        labels = dict(Correction.choices)
        return [str(labels.get(c, c)) for c in self.corrections]


class ArchiveCounter(models.Model):
    """Per center and year serial for archive numbers; the row is locked while a number is taken."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "year"], name="archivecounter_unique")
        ]


class ReplyCounter(models.Model):
    """Per center and year serial for reply document numbers (locked while a number is taken)."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "year"], name="replycounter_unique")
        ]
