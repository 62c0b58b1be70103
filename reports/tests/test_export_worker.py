"""A large ledger export runs on a real Celery worker (Redis broker), with progress, and the
request returns before the file is written."""

from __future__ import annotations

import io
import time

import pytest
from celery.contrib.testing.worker import start_worker
from openpyxl import load_workbook

from config.celery import app as celery_app
from reports.models import ExportJob, ExportState
from reports.services import open_export, start_export

from .conftest import PERIOD, build_scenario

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_a_large_export_is_written_by_the_worker_in_chunks(org, cast, settings):
    build_scenario(org, cast)
    build_scenario(org, cast)
    settings.REPORTS_INLINE_EXPORT_MAX_ROWS = 5
    settings.REPORTS_EXPORT_CHUNK = 7
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        job = start_export(
            actor=cast["supervisor"],
            filters=PERIOD,
            columns=["number", "petitioner", "id_number", "lead_department"],
            fmt="xlsx",
        )
        assert job.state == ExportState.PENDING and job.total_rows == 26
        assert wait_for(
            lambda: ExportJob.objects.get(pk=job.pk).state in (ExportState.DONE, ExportState.FAILED)
        )
    job.refresh_from_db()
    assert job.state == ExportState.DONE, job.error
    assert job.rows_written == 26 and job.progress == 1.0
    with open_export(job) as handle:
        rows = list(load_workbook(io.BytesIO(handle.read())).active.values)
    assert len(rows) == 27
    assert rows[0][3] == "主办部门"


def test_a_job_delivered_twice_is_written_once(org, cast):
    from reports.services import run_export

    build_scenario(org, cast)
    job = ExportJob.objects.create(
        owner=cast["supervisor"], format="csv", columns=["number"], filters=PERIOD, total_rows=13
    )
    run_export(job.pk)
    first = ExportJob.objects.get(pk=job.pk)
    run_export(job.pk)
    second = ExportJob.objects.get(pk=job.pk)
    assert first.state == second.state == ExportState.DONE
    assert first.finished_at == second.finished_at
