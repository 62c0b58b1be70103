"""Assignment (交办) to departments and transfer (转办) between centers (DOMAIN.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center, Department, DepartmentKind


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    ASSIST = "assist", _("Assisting (协办)")


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("Awaiting sign-for")
    SIGNED = "signed", _("Signed for")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_ASSIGNMENT_STATES = (
    AssignmentState.PENDING,
    AssignmentState.SIGNED,
    AssignmentState.ACCEPTED,
)


class Assignment(models.Model):
    case = models.ForeignKey("petitions.Case", on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    role = models.CharField(_("role"), max_length=10, choices=AssignmentRole.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=AssignmentState.choices, default=AssignmentState.PENDING
    )
    due_at = models.DateTimeField(_("due"))
    instructions = models.TextField(_("instructions"), blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_assignments",
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    contribution = models.TextField(_("contribution"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            # one active lead per case; a department appears once among a case's active assignments
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(role="lead", state__in=["pending", "signed", "accepted"]),
                name="assignment_one_active_lead",
            ),
            models.UniqueConstraint(
                fields=["case", "department"],
                condition=models.Q(state__in=["pending", "signed", "accepted"]),
                name="assignment_one_active_per_department",
            ),
        ]
        indexes = [
            # case visibility for a department: EXISTS(assignment WHERE case_id=? AND department_id=?)
            models.Index(fields=["department", "case"], name="assignment_dept_case_idx"),
            # department inbox tabs: WHERE department=? AND state=? ORDER BY due_at
            models.Index(
                fields=["department", "state", "due_at"], name="assignment_dept_state_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id} ({self.role})"


class Transfer(models.Model):
    """A case sent to another center. The sending center keeps read access (selector)."""

    case = models.ForeignKey("petitions.Case", on_delete=models.CASCADE, related_name="transfers")
    from_center = models.ForeignKey(
        Center, verbose_name=_("from center"), on_delete=models.PROTECT, related_name="+"
    )
    to_center = models.ForeignKey(
        Center, verbose_name=_("to center"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    transferred_at = models.DateTimeField(_("transferred at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [
            # case visibility for a sending center: EXISTS(transfer WHERE case_id=? AND from_center_id IN (...))
            models.Index(fields=["from_center", "case"], name="transfer_from_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_center_id} → {self.to_center_id}"


class RoutingRule(models.Model):
    """Suggests a lead department from content category and organ concerned (administrator-edited).
    The most specific matching rule wins (category and organ > category > organ)."""

    category = models.ForeignKey(
        "petitions.ContentCategory",
        verbose_name=_("content category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    organ = models.ForeignKey(
        "petitions.Organ",
        verbose_name=_("organ concerned"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department_kind = models.CharField(
        _("suggested lead department kind"), max_length=20, choices=DepartmentKind.choices
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "organ"], name="routingrule_unique_key", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.category or '*'} / {self.organ or '*'} → {self.get_department_kind_display()}"
        )


class NoticeKind(models.TextChoices):
    NOT_ACCEPTED = "not_accepted", _("Notice of non-acceptance")
    REFERRAL = "referral", _("Notice of referral to the competent organ")
    LEGAL_PROCEDURE = "legal_procedure", _("Notice of routing into legal procedure")
    ACCEPTANCE = "acceptance", _("Notice of acceptance")
    TRANSFER = "transfer", _("Notice of transfer")
    EXTENSION = "extension", _("Notice of extension")


class WrittenNotice(models.Model):
    """A written notice to the petitioner, generated from the case in the regulation's form. The
    text is frozen when issued (what was sent is what is kept)."""

    case = models.ForeignKey("petitions.Case", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    number = models.CharField(_("notice number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    issuer = models.CharField(_("issued by"), max_length=100)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("written notice")
        verbose_name_plural = _("written notices")
        indexes = [
            # case page: the notices of a case
            models.Index(fields=["case", "issued_at"], name="notice_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ProgressNote(models.Model):
    """Handling progress. Internal notes are seen by the department only; shared ones by the center."""

    case = models.ForeignKey(
        "petitions.Case", on_delete=models.CASCADE, related_name="progress_notes"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"))
    shared_with_center = models.BooleanField(_("shared with the center"), default=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        indexes = [
            # case page: notes of a case in order
            models.Index(fields=["case", "created_at"], name="note_case_idx"),
        ]
