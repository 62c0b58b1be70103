"""Petition records (DOMAIN.md §3): code tables, petitioners (one file per person), cases, visits,
attachments and the case timeline. State changes go through petitions.services only."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import pii
from core.models import Center
from core.text import name_key

from .states import CaseState

# --- code tables (DOMAIN.md §3: data an administrator edits, not Python enums) -----------------


class CodeItem(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Channel(CodeItem):
    class Meta(CodeItem.Meta):
        verbose_name = _("channel")
        verbose_name_plural = _("channels")


class Purpose(CodeItem):
    class Meta(CodeItem.Meta):
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")


class Organ(CodeItem):
    """The organ a petition concerns (police, procuratorate, court, justice bureau, ...)."""

    department_kind = models.CharField(_("department kind"), max_length=20, blank=True)

    class Meta(CodeItem.Meta):
        verbose_name = _("organ concerned")
        verbose_name_plural = _("organs concerned")


class ContentCategory(CodeItem):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta(CodeItem.Meta):
        verbose_name = _("content category")
        verbose_name_plural = _("content categories")

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


# --- petitioners -------------------------------------------------------------------------------


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class IdType(models.TextChoices):
    RESIDENT = "resident", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO = "hk_macao", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN = "taiwan", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PR = "foreign_pr", _("Foreigner permanent residence ID card")
    OTHER = "other", _("Other")
    NONE = "none", _("Not provided")


class Petitioner(models.Model):
    """One file per person (一人一档). ID and phone numbers are stored encrypted, plus a keyed hash
    for exact lookup and a masked copy for display (core.pii)."""

    name = models.CharField(_("name"), max_length=50)
    # The name's search key (core.text.name_key: simplified characters, no spaces), kept in step
    # with ``name`` by save(). ``name`` stays as typed.
    name_key = models.CharField(max_length=50, editable=False, default="")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    id_type = models.CharField(
        _("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT
    )
    id_number_enc = models.TextField(editable=False, default="")
    id_number_hash = models.CharField(max_length=64, editable=False, default="")
    id_number_masked = models.CharField(_("ID number"), max_length=40, editable=False, default="")
    phone_enc = models.TextField(editable=False, default="")
    phone_hash = models.CharField(max_length=64, editable=False, default="")
    phone_masked = models.CharField(_("phone"), max_length=30, editable=False, default="")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    household_registration = models.CharField(
        _("household registration"), max_length=200, blank=True
    )
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Asked at the desk: no text messages to this person (outreach's messages to the petitioner).
    sms_opt_out = models.BooleanField(_("no text messages"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The center that holds the file: the one whose desk opened it. Only its staff, or staff of a
    # center above it, may correct the person's details (petitions.services.correct_petitioner).
    center = models.ForeignKey(
        Center,
        verbose_name=_("holding center"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["id_number_enc", "phone_enc"])

    class Meta:
        verbose_name = _("petitioner")
        verbose_name_plural = _("petitioners")
        constraints = [
            # one file per person: an ID number identifies exactly one petitioner
            models.UniqueConstraint(
                fields=["id_type", "id_number_hash"],
                condition=~models.Q(id_number_hash=""),
                name="petitioner_unique_id_number",
            ),
        ]
        indexes = [
            # front desk: lookup by exact ID number (any type)
            models.Index(
                fields=["id_number_hash"],
                name="petitioner_idhash_idx",
                condition=~models.Q(id_number_hash=""),
            ),
            # front desk: lookup by exact phone number
            models.Index(
                fields=["phone_hash"],
                name="petitioner_phonehash_idx",
                condition=~models.Q(phone_hash=""),
            ),
            models.Index(fields=["name"], name="petitioner_name_idx"),
            # front desk / API: name search (prefix, simplified = traditional) and name + phone
            # lookup; pattern ops so that the prefix LIKE uses it under any collation
            models.Index(
                fields=["name_key"],
                name="petitioner_namekey_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_key = name_key(self.name)[:50]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = {*update_fields, "name_key"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def set_id_number(self, value: str) -> None:
        """Stores the number as typed (normalised); the blind index is computed on its canonical
        form (a 15-digit resident ID as its 18-character form), so either finds the file. Set
        ``id_type`` first."""
        value = pii.normalize(value)
        self.id_number_enc = pii.encrypt(value)
        self.id_number_hash = pii.id_number_index(value, self.id_type)
        self.id_number_masked = pii.mask_id(value)

    def set_phone(self, value: str) -> None:
        value = pii.normalize(value)
        self.phone_enc = pii.encrypt(value)
        self.phone_hash = pii.blind_index(value)
        self.phone_masked = pii.mask_phone(value)

    def reveal_id_number(self) -> str:
        """Only call through petitions.services.reveal_pii, which checks the role and logs."""
        return pii.decrypt(self.id_number_enc)

    def reveal_phone(self) -> str:
        return pii.decrypt(self.phone_enc)


class FileLookup(models.Model):
    """An exact lookup of a person at the front desk (by ID number, or name + phone number).
    A person's file is visible to a user through a case the user may see, or for a while after
    such a lookup (petitions.selectors.petitioners_visible_to); each lookup is also a record of
    who looked for whom."""

    class How(models.TextChoices):
        ID_NUMBER = "id_number", _("ID number")
        NAME_PHONE = "name_phone", _("Name and phone number")
        REGISTERED = "registered", _("Registration of the person")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    petitioner = models.ForeignKey(Petitioner, on_delete=models.CASCADE, related_name="+")
    how = models.CharField(max_length=20, choices=How.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("file lookup")
        verbose_name_plural = _("file lookups")
        indexes = [
            # visibility: did this user look this person up lately (index-only)
            models.Index(fields=["user", "petitioner", "at"], name="filelookup_user_person_at"),
        ]


# --- cases -------------------------------------------------------------------------------------


class Case(models.Model):
    """A petition matter (信访事项). ``center`` is the center that holds it now (it changes on a
    transfer); ``origin_center`` is where it was registered."""

    number = models.CharField(_("case number"), max_length=32, unique=True, editable=False)
    query_code_hash = models.CharField(max_length=64, editable=False)
    center = models.ForeignKey(
        Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="cases"
    )
    origin_center = models.ForeignKey(
        Center, verbose_name=_("registering center"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=CaseState.choices, default=CaseState.REGISTERED
    )
    state_changed_at = models.DateTimeField(_("state changed at"))
    version = models.PositiveIntegerField(default=1, editable=False)

    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        ContentCategory,
        verbose_name=_("content category"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organ = models.ForeignKey(
        Organ,
        verbose_name=_("organ concerned"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    legal_case_number = models.CharField(_("related legal case number"), max_length=60, blank=True)
    problem_region_code = models.CharField(_("where the problem arose"), max_length=6, blank=True)
    is_law_related = models.BooleanField(_("law/litigation-related"), default=True)
    is_major_urgent = models.BooleanField(_("major and urgent"), default=False)
    is_safety_risk = models.BooleanField(_("safety risk (threatening statements)"), default=False)
    is_skip_level = models.BooleanField(_("skip-level"), default=False)
    is_group = models.BooleanField(_("group visit"), default=False)
    headcount = models.PositiveIntegerField(_("headcount"), default=1)
    request = models.TextField(_("request"))
    facts_reasons = models.TextField(_("facts and reasons"), blank=True)

    main_petitioner = models.ForeignKey(
        Petitioner,
        verbose_name=_("main petitioner"),
        on_delete=models.PROTECT,
        related_name="main_cases",
    )
    petitioners = models.ManyToManyField(Petitioner, through="CasePetitioner", related_name="cases")
    visit_count = models.PositiveIntegerField(_("visits"), default=1)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The next deadline on the case (denormalised from supervision's deadline records) for lists,
    # the public status page and sorting.
    next_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    submission_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )

    # next_due_at is derived from supervision.Deadline rows, which carry their own history.
    history = HistoricalRecords(
        excluded_fields=["query_code_hash", "submission_key", "next_due_at"]
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(headcount__gte=1), name="case_headcount_positive"
            ),
        ]
        indexes = [
            # center case list and triage queue: WHERE center=? AND state=? ORDER BY registered_at DESC
            models.Index(
                fields=["center", "state", "-registered_at"], name="case_center_state_reg_idx"
            ),
            # center case list without a state filter, newest first
            models.Index(fields=["center", "-registered_at", "-id"], name="case_center_reg_idx"),
            # case list for a center with subordinates (most cases visible): newest first, keyset
            # pagination on (registered_at, id), center filtered while walking the index
            models.Index(fields=["-registered_at", "-id"], name="case_registered_idx"),
            # front desk: a person's cases
            models.Index(
                fields=["main_petitioner", "-registered_at"], name="case_petitioner_reg_idx"
            ),
            # case list search by number prefix (LIKE '1301002026%' under any collation)
            models.Index(
                fields=["number"], name="case_number_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            # deadline lists and sweeps: open cases by next deadline
            models.Index(
                fields=["next_due_at"],
                name="case_next_due_idx",
                condition=models.Q(next_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in CaseState.open_states()


class PetitionerRole(models.TextChoices):
    MAIN = "main", _("Main petitioner")
    REPRESENTATIVE = "representative", _("Representative")
    MEMBER = "member", _("Member")


class CasePetitioner(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_petitioners")
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, related_name="case_links")
    role = models.CharField(_("role"), max_length=20, choices=PetitionerRole.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("petitioner on case")
        verbose_name_plural = _("petitioners on case")
        constraints = [
            models.UniqueConstraint(fields=["case", "petitioner"], name="casepetitioner_unique"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(role="main"), name="casepetitioner_one_main"
            ),
        ]
        indexes = [
            # a person's cases where they are a representative or member
            models.Index(fields=["petitioner", "case"], name="casepet_petitioner_idx"),
        ]


class Visit(models.Model):
    """One appearance: a visit, a letter, a call or an online submission."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visits")
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, related_name="visits")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    is_repeat = models.BooleanField(_("repeat visit"), default=False)
    headcount = models.PositiveIntegerField(_("headcount"), default=1)
    notes = models.TextField(_("notes"), blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Received in person by a leader (a leader's reception day, 领导接访日; a tour's reception,
    # 带案巡视): counted in the reports as visits received by leaders (by the head in person).
    received_by_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received in person by leader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submission_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    history = HistoricalRecords(excluded_fields=["submission_key"])

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            # case page: the visits of a case in order
            models.Index(fields=["case", "at"], name="visit_case_at_idx"),
            # reports: visits per center per period
            models.Index(fields=["center", "at"], name="visit_center_at_idx"),
        ]


class AttachmentKind(models.TextChoices):
    LETTER = "letter", _("Scanned letter")
    JUDGMENT = "judgment", _("Judgment or decision")
    EVIDENCE = "evidence", _("Evidence")
    NOTICE = "notice", _("Written notice")
    OTHER = "other", _("Other")


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random stored name: the file's path says nothing of its original name (kept in
    ``original_name``) and cannot be guessed. Files are only ever served by the attachment view,
    which checks the case's visibility; no URL maps to the media folder."""
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"cases/{instance.case_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(
        _("type"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class CaseEvent(models.Model):
    """The readable timeline of a case, written by the service in the same transaction as the change."""

    # Indexed by (case, at) below; no separate FK indexes (the sweep inserts events in bulk).
    # No database FK constraints either, like the notification outbox: the sweep inserts 200,000
    # events per 100,000 clocks going overdue, and each insert's deferred FK check (a KEY SHARE
    # lock on the case row and a lookup) cost about 1.2 s of PostgreSQL CPU per 100,000 clocks
    # (issue 10). Events are written only by the services, always for a case they hold locked;
    # cases and users are never deleted (archived, deactivated); Django still cascades/protects.
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("event"), max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField(_("time"))
    message = models.TextField(_("details"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [
            # case page timeline
            models.Index(fields=["case", "at"], name="caseevent_case_at_idx"),
        ]


class CaseNumberCounter(models.Model):
    """Per center and day serial for case numbers; the row is locked while a number is taken."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "day"], name="casenumber_unique_center_day")
        ]


class CaseStateCount(models.Model):
    """Kept count of cases per (center, state) for the triage tabs (issue 21 §1), written by
    database triggers on petitions_case in the same transaction as every insert, state change,
    transfer and delete (petitions.counters): no write path can miss it, the bulk ones included.

    Append-only deltas (+n/-n rows), summed when read and folded by
    petitions.counters.compact_case_state_counts: concurrent transactions never wait on one
    another's counter row (no lock, no deadlock, registrations of one center are not
    serialised behind it). The plain ``center_id`` has no foreign key check to pay per row."""

    center_id = models.BigIntegerField()
    state = models.CharField(max_length=20)
    cases = models.IntegerField()

    class Meta:
        verbose_name = _("kept case count")
        verbose_name_plural = _("kept case counts")
        indexes = [
            # triage tabs: SUM(cases) WHERE center_id = ? AND state IN (open states) GROUP BY state
            models.Index(
                fields=["center_id", "state"],
                name="casestatecount_center_idx",
                include=["cases"],
            ),
        ]
