"""Review (复查), re-review (复核), lawful termination (依法终结) and finality (DOMAIN.md §4-5,
《信访工作条例》 Arts 35-37).

- A petitioner dissatisfied with the written reply may ask, within 30 days of receiving it, the next
  level up to review it (Art 35); dissatisfied with the review answer, within 30 days of receiving
  that, the level above the reviewing body to re-review it (Art 36). Each is decided within 30 days.
- After the re-review (or when the window passes unused) the matter is final: the same matter on
  the same facts and reasons is not accepted again (Art 36 para 3). ``Finality`` records that, and
  the front desk reads it.
- Law-related matters whose procedures are exhausted may be lawfully terminated, approved at
  provincial level (Art 37 para 3, the 涉法涉诉 rules): afterwards the matter is counted apart, but a
  unit stays responsible for support and persuasion.

All writes go through appeals.services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center, Department


class ReviewKind(models.TextChoices):
    REVIEW = "review", _("Review (复查)")
    RE_REVIEW = "re_review", _("Re-review (复核)")


class ReviewDecision(models.TextChoices):
    UPHOLD = "uphold", _("Original decision upheld")
    REVOKE = "revoke", _("Original decision revoked")
    CHANGE = "change", _("Original decision changed")
    REDO = "redo", _("Ordered to be handled again")


class RequestChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person, at a reception desk")
    LETTER = "letter", _("By letter")
    ONLINE = "online", _("Online")
    OTHER = "other", _("Other")


class ReviewRequest(models.Model):
    """One request for review or re-review and, once decided, its decision and written answer.

    A review concerns a delivered written reply (``reply``); a re-review concerns a decided review
    (``previous``). Each answer can be challenged once: the partial unique constraints below make
    a second review of the same reply, or a second re-review of the same review, impossible even
    for two desks submitting at the same moment."""

    case = models.ForeignKey(
        "petitions.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="review_requests",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ReviewKind.choices)
    reply = models.ForeignKey(
        "closure.Reply",
        verbose_name=_("written reply"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="review_requests",
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("review challenged"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="re_reviews",
    )
    reason = models.TextField(_("reason"))
    channel = models.CharField(
        _("how it was received"),
        max_length=10,
        choices=RequestChannel.choices,
        default=RequestChannel.IN_PERSON,
    )
    requested_at = models.DateTimeField(_("requested at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The next level up from the body whose answer is challenged (appeals.services.reviewing_center_for).
    reviewing_center = models.ForeignKey(
        Center,
        verbose_name=_("reviewing center"),
        on_delete=models.PROTECT,
        related_name="review_requests",
    )
    # Art 36: a re-review goes to the organ one level above the reviewing one. When that level is
    # outside this deployment (a review decided by the province center), the request is forwarded
    # upward to the organ named here, and ``reviewing_center`` is the center that forwarded it,
    # follows it up and records the outcome received (appeals.services.record_forwarded_outcome).
    forwarded_to = models.CharField(_("forwarded upward to"), max_length=100, blank=True)
    # The date of the forwarded request's decision by the organ above (its document number is
    # ``document_number``); ``decided_at`` is when the outcome was recorded here.
    outcome_date = models.DateField(_("date of the decision received"), null=True, blank=True)
    # When the petitioner's window closed (for the record: the request was within it).
    window_due_at = models.DateTimeField(_("request window ended"))
    decision_due_at = models.DateTimeField(_("decision due"))
    decision = models.CharField(
        _("decision"), max_length=10, choices=ReviewDecision.choices, blank=True
    )
    answer = models.TextField(_("written answer"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The written answer is issued with the decision; its date starts the re-review window.
    delivered_at = models.DateTimeField(_("answer issued at"), null=True, blank=True)
    document_number = models.CharField(
        _("document number"), max_length=40, null=True, blank=True, unique=True
    )
    submission_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    history = HistoricalRecords(excluded_fields=["submission_key"])

    class Meta:
        verbose_name = _("review request")
        verbose_name_plural = _("review requests")
        constraints = [
            # Art 35: one review per written reply ("a second review of the same decision")
            models.UniqueConstraint(
                fields=["reply"], condition=models.Q(kind="review"), name="review_one_per_reply"
            ),
            # Art 36: one re-review per review
            models.UniqueConstraint(
                fields=["previous"],
                condition=models.Q(kind="re_review"),
                name="review_one_re_review_per_review",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="review") & models.Q(reply__isnull=False))
                | (models.Q(kind="re_review") & models.Q(previous__isnull=False)),
                name="review_has_its_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="") | models.Q(decided_at__isnull=False),
                name="review_decision_has_date",
            ),
            # only a re-review is forwarded (the review of a province answer stays there), and
            # its recorded outcome carries the date and number of the decision received
            models.CheckConstraint(
                condition=models.Q(forwarded_to="")
                | (
                    models.Q(kind="re_review")
                    & (
                        models.Q(decision="")
                        | (
                            models.Q(outcome_date__isnull=False)
                            & models.Q(document_number__isnull=False)
                            & ~models.Q(document_number="")
                        )
                    )
                ),
                name="review_forwarded_outcome_recorded",
            ),
        ]
        indexes = [
            # the reviewing center's queue: WHERE reviewing_center=? AND decision='' ORDER BY due
            models.Index(
                fields=["reviewing_center", "decision_due_at"],
                name="review_pending_idx",
                condition=models.Q(decision=""),
            ),
            # case page and services: a case's requests in order
            models.Index(fields=["case", "requested_at"], name="review_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id}"

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)

    @property
    def forwarded_upward(self) -> bool:
        return bool(self.forwarded_to)


class TerminationState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed by the department")
    CENTER_REVIEWED = "center_reviewed", _("Reviewed by the center, awaiting provincial approval")
    APPROVED = "approved", _("Approved: lawfully terminated")
    REJECTED = "rejected", _("Not approved")


ACTIVE_TERMINATION_STATES = (TerminationState.PROPOSED, TerminationState.CENTER_REVIEWED)


class Termination(models.Model):
    """A proposal to lawfully terminate a law-related matter: proposed by the department that
    handles it, reviewed by the center, approved (or not) at provincial level."""

    case = models.ForeignKey(
        "petitions.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="terminations",
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=TerminationState.choices,
        default=TerminationState.PROPOSED,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("proposing department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    grounds = models.TextField(_("grounds"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    # Art 37 para 3: support and persuasion continue after termination.
    support_unit = models.ForeignKey(
        Department,
        verbose_name=_("unit responsible for support"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    center_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by (center)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    center_reviewed_at = models.DateTimeField(_("reviewed at (center)"), null=True, blank=True)
    center_opinion = models.TextField(_("center's opinion"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approval recorded at"), null=True, blank=True)
    approving_body = models.CharField(_("approving body"), max_length=100, blank=True)
    approval_date = models.DateField(_("approval date"), null=True, blank=True)
    approval_opinion = models.TextField(_("approval opinion"), blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("not approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rejected_at = models.DateTimeField(_("not approved at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for not approving"), blank=True)
    submission_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    history = HistoricalRecords(excluded_fields=["submission_key"])

    class Meta:
        verbose_name = _("lawful termination")
        verbose_name_plural = _("lawful terminations")
        constraints = [
            # one proposal under way per case (a double submit cannot open a second one)
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state__in=["proposed", "center_reviewed"]),
                name="termination_one_active_per_case",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="approved")
                | (
                    models.Q(approval_date__isnull=False)
                    & ~models.Q(approving_body="")
                    & models.Q(approved_by__isnull=False)
                ),
                name="termination_approval_recorded",
            ),
        ]
        indexes = [
            # approval queues: proposals waiting in a state, oldest first
            models.Index(
                fields=["state", "proposed_at"],
                name="termination_waiting_idx",
                condition=models.Q(state__in=["proposed", "center_reviewed"]),
            ),
            # case page: a case's proposals
            models.Index(fields=["case", "proposed_at"], name="termination_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ({self.get_state_display()})"


class FinalityReason(models.TextChoices):
    RE_REVIEW_DECIDED = "re_review_decided", _("Re-review decided (Art 36)")
    REVIEW_WINDOW_LAPSED = "review_window_lapsed", _("No review requested within 30 days (Art 35)")
    RE_REVIEW_WINDOW_LAPSED = (
        "re_review_window_lapsed",
        _("No re-review requested within 30 days (Art 36)"),
    )
    TERMINATED = "terminated", _("Lawfully terminated (Art 37)")


class Finality(models.Model):
    """The matter of a case is final: the same person's same matter, on the same facts and reasons,
    is not accepted again (不再受理). Written by appeals.services (re-review decided, termination
    approved) and appeals.tasks (a review window that ran out unused)."""

    case = models.OneToOneField(
        "petitions.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="finality"
    )
    reason = models.CharField(_("reason"), max_length=24, choices=FinalityReason.choices)
    final_at = models.DateTimeField(_("final since"))
    review = models.ForeignKey(
        ReviewRequest,
        verbose_name=_("re-review"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    termination = models.ForeignKey(
        Termination,
        verbose_name=_("lawful termination"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("final matter")
        verbose_name_plural = _("final matters")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.get_reason_display()}"
