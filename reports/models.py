"""What the reports app stores itself: ledger export jobs, and the law-enforcement suggestions
(执法建议) the center sends to departments with their responses. Everything else it reads from the
apps below it and writes nothing to them."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.utils.functional import LazyObject
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center, Department

from . import conf


class ExportStorage(LazyObject):
    """Export files live outside MEDIA_ROOT (conf.export_root); only the download view serves
    them, after checking the owner."""

    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(location=str(conf.export_root()))


export_storage = ExportStorage()


def _export_storage() -> Storage:
    return export_storage  # type: ignore[return-value]  # a LazyObject standing in for a Storage


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel workbook (.xlsx)")
    CSV = "csv", _("CSV (UTF-8 with BOM)")


class ExportState(models.TextChoices):
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """One ledger export: the filters and columns asked for, its progress and the file.

    The file is written by reports.exports.run_export, in the request for small ledgers and by a
    Celery worker for large ones; progress is ``rows_written / total_rows``, updated once per
    chunk in autocommit so the page sees it while the job runs."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports"
    )
    format = models.CharField(_("format"), max_length=10, choices=ExportFormat.choices)
    columns = models.JSONField(_("columns"), default=list)
    filters = models.JSONField(_("filters"), default=dict)
    state = models.CharField(
        _("state"), max_length=10, choices=ExportState.choices, default=ExportState.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), storage=_export_storage, blank=True, max_length=200)
    file_name = models.CharField(_("file name"), max_length=120, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger export")
        verbose_name_plural = _("ledger exports")
        indexes = [
            # ledger page: my recent exports, newest first
            models.Index(fields=["owner", "-created_at"], name="exportjob_owner_created_idx"),
        ]
        # No check rows_written <= total_rows: cases registered while the export runs may be
        # in the cursor but not in the count taken before it.

    def __str__(self) -> str:
        return self.file_name or f"export {self.pk}"

    @property
    def progress(self) -> float:
        """Share done, 0..1 (a finished job is 1 even with no rows)."""
        if self.state == ExportState.DONE:
            return 1.0
        if not self.total_rows:
            return 0.0
        return min(1.0, self.rows_written / self.total_rows)

    @property
    def percent(self) -> int:
        return int(self.progress * 100)


class SuggestionState(models.TextChoices):
    SENT = "sent", _("Awaiting response")
    RESPONDED = "responded", _("Responded")


class EnforcementSuggestion(models.Model):
    """执法建议: the center's written suggestion to a department about its law enforcement (problems
    the petitions revealed), and the department's written response."""

    center = models.ForeignKey(
        Center, verbose_name=_("issuing center"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="enforcement_suggestions",
    )
    number = models.CharField(_("document number"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    problems = models.TextField(_("problems found"))
    suggestions = models.TextField(_("suggestions"))
    cases = models.ManyToManyField(
        "petitions.Case", verbose_name=_("cases"), related_name="+", blank=True
    )
    response_due = models.DateField(_("response due"))
    state = models.CharField(
        _("state"), max_length=10, choices=SuggestionState.choices, default=SuggestionState.SENT
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    response = models.TextField(_("response"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("law-enforcement suggestion")
        verbose_name_plural = _("law-enforcement suggestions")
        constraints = [
            models.UniqueConstraint(fields=["center", "number"], name="suggestion_unique_number"),
            models.CheckConstraint(
                condition=models.Q(state="sent")
                | (models.Q(responded_at__isnull=False) & ~models.Q(response="")),
                name="suggestion_response_recorded",
            ),
        ]
        indexes = [
            # suggestions list of the issuing centers, newest first
            models.Index(fields=["center", "-issued_at"], name="suggestion_center_issued_idx"),
            # a department's suggestions awaiting its response
            models.Index(fields=["department", "state"], name="suggestion_dept_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ReportDailyCount(models.Model):
    """Daily per-center counters of the indicator figures (reports.counters): one row per Beijing
    day and combination of the case dimensions a report filters on (center, channel, category,
    law-related), holding the numerators, denominators and counts of the events that day places
    in a period. A year over the whole province is then a sum over a few hundred thousand rows
    at most, instead of aggregates over every case of the year. Rebuilt by
    ``refresh_report_counters`` (nightly for the recent days, and on demand).

    ``grain`` "m" rows are the month's daily rows summed (``day`` is the 1st): a year is then
    read as its whole months plus the days at either end, in one query over the
    (grain, center, day) index, a tenth of the rows of the daily sum."""

    DAY = "d"
    MONTH = "m"

    grain = models.CharField(max_length=1, default=DAY)
    day = models.DateField(_("day"))
    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+")
    channel_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    is_law_related = models.BooleanField()
    acc_num = models.PositiveIntegerField(default=0)
    acc_den = models.PositiveIntegerField(default=0)
    done_num = models.PositiveIntegerField(default=0)
    done_den = models.PositiveIntegerField(default=0)
    sat_num = models.PositiveIntegerField(default=0)
    csat_num = models.PositiveIntegerField(default=0)  # satisfied with the center (issue 18 #6)
    eval_num = models.PositiveIntegerField(default=0)
    due_den = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    repeat = models.PositiveIntegerField(default=0)
    group_visits = models.PositiveIntegerField(default=0)
    skip_level_visits = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    first_time = models.PositiveIntegerField(default=0)
    cessation_num = models.PositiveIntegerField(default=0)
    cessation_den = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    transfers = models.PositiveIntegerField(default=0)
    supervision_orders = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily report counter")
        verbose_name_plural = _("daily report counters")
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "center", "channel_id", "category_id", "is_law_related"],
                name="dailycount_unique_grain_key",
            ),
        ]
        indexes = [
            # counters.counter_rows(): center_id IN (...) AND (grain = 'm' AND day in the whole
            # months OR grain = 'd' AND day in the days at either end)
            models.Index(fields=["grain", "center", "day"], name="dailycount_grain_center_idx"),
        ]


class ReportDepartmentCount(models.Model):
    """Daily (and monthly, ``grain`` "m") counts of the cases assigned to each lead department,
    by the case dimensions a report filters on: the "cases assigned per department" chart of
    the reports page, kept with the daily counters (reports.counters)."""

    grain = models.CharField(max_length=1, default=ReportDailyCount.DAY)
    day = models.DateField(_("day"))
    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="+")
    channel_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    is_law_related = models.BooleanField()
    department_id = models.BigIntegerField()
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily department counter")
        verbose_name_plural = _("daily department counters")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "grain",
                    "day",
                    "center",
                    "channel_id",
                    "category_id",
                    "is_law_related",
                    "department_id",
                ],
                name="deptcount_unique_key",
            ),
        ]
        indexes = [
            models.Index(fields=["grain", "center", "day"], name="deptcount_grain_center_idx"),
        ]


class ReportCounterRun(models.Model):
    """The days the counters cover: [built_from, built_through]. One row."""

    built_from = models.DateField()
    built_through = models.DateField()
    cessation_days = models.PositiveIntegerField()
    evaluation_window_days = models.PositiveIntegerField()
    built_at = models.DateTimeField()
