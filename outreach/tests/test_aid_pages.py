"""Judicial aid pages: the case panel, the application form and page (PRG, 400, 403, 404, 409,
double submit), the refusal notice (page and PDF text), the ledger (filters, Excel cells) and the
counts for the reports, against hand counts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clocks.deadlines import CHINA_TZ
from outreach.models import AidApplication, AidState
from outreach.selectors_aid import counts
from outreach.services import aid
from outreach.tests.fixtures_aid import (  # noqa: F401  (fixtures)
    AID_NOW,
    aid_clock,
    answer_all,
    apply,
    cap_rule,
    complete,
    decide,
    pdf,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("aid_clock", "cap_rule")]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_case_page_shows_the_aid_panel(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case, "30000")
    page = login(cast["county_reception"]).get(
        reverse("petitions:case_detail", args=[handling_case.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="aid-panel"' in html
    assert reverse("outreach:aid_detail", args=[handling_case.pk, application.pk]) in html
    assert reverse("outreach:aid_apply", args=[handling_case.pk]) in html


def test_apply_form_prg_and_double_submit(handling_case, cast):
    client = login(cast["county_reception"])
    url = reverse("outreach:aid_apply", args=[handling_case.pk])
    assert client.get(url).status_code == 200
    handling_case.refresh_from_db()
    data = {
        "expected_version": handling_case.version,
        "submission_key": "page-key-1",
        "applicant": handling_case.main_petitioner_id,
        "department": cast["county_police"].department_id,
        "circumstance": "unenforced",
        "circumstances": "执行不能，生活困难",
        "requested_amount": "12000",
        "evidence": [pdf("a.pdf")],
    }
    first = client.post(url, data)
    assert first.status_code == 302
    application = AidApplication.objects.get()
    assert first["Location"] == reverse(
        "outreach:aid_detail", args=[handling_case.pk, application.pk]
    )
    data["evidence"] = [pdf("a.pdf")]
    again = client.post(url, data)
    assert again.status_code == 302 and AidApplication.objects.count() == 1
    bad = client.post(url, {**data, "submission_key": "k2", "requested_amount": "0"})
    assert bad.status_code == 400 and AidApplication.objects.count() == 1


def test_detail_scoping_roles_and_stale(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case)
    detail = reverse("outreach:aid_detail", args=[handling_case.pk, application.pk])
    assert login(cast["outsider"]).get(detail).status_code == 404
    assert login(cast["county_reception"]).get(detail).status_code == 200
    complete_url = reverse("outreach:aid_complete", args=[handling_case.pk, application.pk])
    stale = login(cast["county_reception"]).post(complete_url, {"expected_version": 99})
    assert stale.status_code == 409
    ok = login(cast["county_reception"]).post(
        complete_url, {"expected_version": application.version}
    )
    assert ok.status_code == 302
    answer_all(people["county_head"], application)
    decide_url = reverse("outreach:aid_decide", args=[handling_case.pk, application.pk])
    application.refresh_from_db()
    body = {"expected_version": application.version, "decision": "grant", "amount": "1000"}
    assert login(cast["county_police"]).post(decide_url, body).status_code == 403
    assert login(cast["outsider"]).post(decide_url, body).status_code == 404
    head_page = login(people["county_head"]).get(detail).content.decode()
    assert 'data-testid="form-aid-decide"' in head_page
    assert "180000.00" in head_page  # the cap shown to the head
    assert login(people["county_head"]).post(decide_url, body).status_code == 302
    application.refresh_from_db()
    assert application.state == AidState.GRANTED and application.amount == Decimal("1000.00")


def test_refusal_notice_page_and_pdf(handling_case, cast, people):
    from pypdf import PdfReader

    application = apply(cast["county_reception"], handling_case, "8000")
    complete(cast["county_reception"], application)
    decide(
        people["county_head"], application, decision="refuse", reasons="申请人不属于生活困难情形"
    )
    notice = reverse("outreach:aid_notice", args=[handling_case.pk, application.pk])
    page = login(cast["county_reception"]).get(notice)
    assert page.status_code == 200
    assert "不予司法救助告知书" in page.content.decode()
    assert "申请人不属于生活困难情形" in page.content.decode()
    response = login(cast["county_reception"]).get(
        reverse("outreach:aid_notice_pdf", args=[handling_case.pk, application.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
    text = text.replace("\n", "").replace(" ", "")
    assert "不予司法救助告知书" in text
    assert "决定不予救助" in text and "申请人不属于生活困难情形" in text
    assert "8,000.00元" in text
    assert "不影响你依法反映诉求" in text
    for word in ("息诉", "罢访", "放弃", "撤回", "承诺"):
        assert word not in text
    # no notice for an application that was not refused
    other = apply(cast["county_reception"], handling_case)
    missing = reverse("outreach:aid_notice", args=[handling_case.pk, other.pk])
    assert login(cast["county_reception"]).get(missing).status_code == 404


def _ledger_world(cast, people, make_handling_case):
    """Four applications on county_a's police cases: paid 10,000 of 10,000 granted (asked
    12,000), refused (asked 5,000), complete (asked 7,000), applied (asked 3,000; reasons that
    look like a formula)."""
    reception, head, officer = (
        cast["county_reception"],
        people["county_head"],
        cast["county_police"],
    )
    case = make_handling_case()
    paid = apply(reception, case, "12000")
    complete(reception, paid)
    answer_all(head, paid)
    decide(head, paid, amount="10000")
    paid.refresh_from_db()
    aid.pay_aid(
        actor=officer,
        application=paid,
        paid_on=AID_NOW.date(),
        method="银行转账",
        amount="10000",
        voucher=pdf("v.pdf"),
        expected_version=paid.version,
    )
    refused = apply(reception, case, "5000")
    complete(reception, refused)
    decide(head, refused, decision="refuse", reasons='=HYPERLINK("x")')
    waiting = apply(reception, case, "7000")
    complete(reception, waiting)
    apply(reception, case, "3000")
    return case


def test_ledger_page_and_export(handling_case, cast, people, make_handling_case):
    from openpyxl import load_workbook

    _ledger_world(cast, people, make_handling_case)
    client = login(cast["county_reception"])
    page = client.get(reverse("outreach:aid_ledger"))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="aid-ledger-row"') == 4
    refused_only = client.get(reverse("outreach:aid_ledger"), {"state": "refused"})
    assert refused_only.content.decode().count('data-testid="aid-ledger-row"') == 1
    court_only = client.get(reverse("outreach:aid_ledger"), {"organ": "court"})
    assert 'data-testid="aid-ledger-row"' not in court_only.content.decode()
    # scoping: another province sees none of them
    outsider = login(cast["outsider"]).get(reverse("outreach:aid_ledger"))
    assert 'data-testid="aid-ledger-row"' not in outsider.content.decode()

    export = client.get(reverse("outreach:aid_ledger_export"), {"state": "refused"})
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the refused one
    header, row = rows
    assert header[0] == "信访件编号"  # the UI language (zh-hans)
    assert row[8] == 5000 and row[10] is None
    assert "*" in (row[2] or "")  # the masked ID number, never the full one
    reasons_cell = list(sheet.iter_rows(min_row=2, max_row=2))[0][15]
    assert reasons_cell.value == '=HYPERLINK("x")' and reasons_cell.data_type == "s"


def test_counts_for_the_reports(handling_case, cast, people, make_handling_case, org):
    _ledger_world(cast, people, make_handling_case)
    since = datetime(2026, 3, 1, tzinfo=CHINA_TZ)
    until = datetime(2026, 4, 1, tzinfo=CHINA_TZ)
    got = counts([org.county_a.pk], since, until)
    assert got["applications"] == 4
    assert (got["granted"], got["refused"], got["paid"], got["undecided"]) == (1, 1, 1, 2)
    assert got["requested"] == Decimal("27000.00")  # 12,000 + 5,000 + 7,000 + 3,000
    assert got["granted_amount"] == Decimal("10000.00")
    assert got["paid_amount"] == Decimal("10000.00")
    # both decided the moment they were complete (the clock is stopped): 0 days
    assert got["mean_days_to_decide"] == 0.0 and got["median_days_to_decide"] == 0.0
    assert got["by_organ"]["police"]["applications"] == 4
    assert got["by_center"][org.county_a.pk]["refused"] == 1
    assert counts([org.county_b.pk], since, until)["applications"] == 0
    assert (
        counts([org.county_a.pk], until, datetime(2026, 5, 1, tzinfo=CHINA_TZ))["applications"] == 0
    )


def test_days_to_decide_hand_counted(handling_case, cast, people, org):
    reception, head = cast["county_reception"], people["county_head"]
    one = apply(reception, handling_case)
    two = apply(reception, handling_case)
    complete(reception, one)
    complete(reception, two)
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=CHINA_TZ), tick=False):
        decide(head, one, decision="refuse", reasons="不符合")  # 2 days
    with time_machine.travel(datetime(2026, 3, 7, 21, 0, tzinfo=CHINA_TZ), tick=False):
        decide(head, two, decision="refuse", reasons="不符合")  # 5.5 days
    got = counts(
        [org.county_a.pk],
        datetime(2026, 3, 1, tzinfo=CHINA_TZ),
        datetime(2026, 4, 1, tzinfo=CHINA_TZ),
    )
    assert got["mean_days_to_decide"] == 3.8  # (2 + 5.5) / 2 = 3.75
    assert got["median_days_to_decide"] == 3.8


def test_aid_granted_shows_on_the_campaigns_matter(city_handling_case, cast, campaign, make_matter):
    case = city_handling_case
    application = apply(cast["reception"], case, "9000")
    complete(cast["reception"], application)
    answer_all(cast["head"], application)
    decide(cast["head"], application, amount="5000")
    matter = make_matter(campaign, case=case)
    page = login(cast["supervisor"]).get(reverse("campaigns:matter", args=[campaign.pk, matter.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="matter-aid"' in html
    assert html.count('data-testid="matter-aid-row"') == 1
    assert "<strong>5000.00</strong>" in html


def test_aid_pages_are_chinese(handling_case, cast, people, make_handling_case):
    """The pages the i18n walker cannot reach (two path arguments), in zh-hans, for the roles
    that see their forms: no English msgid shown untranslated, no '---------'."""
    import re

    from core.models import Department, User
    from tests.test_i18n_pages import DEPARTMENT_NAMES, problems, untranslated_msgids

    untranslated = untranslated_msgids()
    for n, user in enumerate(User.objects.order_by("pk"), start=1):
        User.objects.filter(pk=user.pk).update(full_name=f"工作人员{n}号")
    for kind, name in DEPARTMENT_NAMES.items():
        Department.objects.filter(kind=kind).update(name=name)
    case = _ledger_world(cast, people, make_handling_case)
    waiting = AidApplication.objects.get(case=case, state=AidState.COMPLETE)
    fresh = AidApplication.objects.get(case=case, state=AidState.APPLIED)
    refused = apply(cast["county_reception"], case, "2000")
    complete(cast["county_reception"], refused)
    decide(people["county_head"], refused, decision="refuse", reasons="不符合救助条件")
    paid = AidApplication.objects.get(case=case, state=AidState.PAID)
    big = apply(cast["county_reception"], case, "90000")
    complete(cast["county_reception"], big)
    answer_all(people["county_head"], big)
    decide(people["county_head"], big, amount="80000")
    granted = apply(cast["county_reception"], case, "1000")
    complete(cast["county_reception"], granted)
    answer_all(people["county_head"], granted)
    decide(people["county_head"], granted, amount="1000")
    pages = [
        (people["county_head"], reverse("outreach:aid_detail", args=[case.pk, waiting.pk])),
        (cast["county_reception"], reverse("outreach:aid_detail", args=[case.pk, fresh.pk])),
        (people["county_leader"], reverse("outreach:aid_detail", args=[case.pk, big.pk])),
        (cast["county_police"], reverse("outreach:aid_detail", args=[case.pk, granted.pk])),
        (cast["county_police"], reverse("outreach:aid_detail", args=[case.pk, paid.pk])),
        (cast["county_reception"], reverse("outreach:aid_notice", args=[case.pk, refused.pk])),
        (cast["county_reception"], reverse("outreach:aid_apply", args=[case.pk])),
        (cast["county_reception"], reverse("outreach:aid_ledger")),
        (cast["county_reception"], reverse("petitions:case_detail", args=[case.pk])),
    ]
    failures = {}
    for user, url in pages:
        client = login(user)
        client.cookies["django_language"] = "zh-hans"
        response = client.get(url)
        assert response.status_code == 200, url
        # the navigation is the site's (tests/test_i18n_pages.py checks it): this page's content
        html = re.sub(r"<nav .*?</nav>", "", response.content.decode(), flags=re.S)
        if "/judicial-aid/" not in url:  # the case page: the aid part of the outreach card
            panel = re.search(r'<div[^>]*data-testid="aid-panel">.*?\n</div>', html, flags=re.S)
            assert panel is not None
            html = panel.group(0)
        found = problems(html, untranslated)
        if found:
            failures[url] = found
    assert not failures, failures


def test_admin_lists_the_checklist_and_the_cap_rules(org):
    from core.models import User

    admin = User.objects.create_superuser("aid_admin", "a@example.org", "x-Pass-2026")
    client = login(admin)
    rules = client.get(reverse("admin:outreach_aidcaprule_changelist"))
    assert rules.status_code == 200
    assert "180,000.00" in rules.content.decode()  # 36 × 5,000.00
    questions = client.get(reverse("admin:outreach_eligibilityquestion_changelist"))
    assert questions.status_code == 200
    assert "举报人、证人、鉴定人" in questions.content.decode()
