"""The campaign pages: list, form, campaign page, matter page, exports, dashboard panel."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign, CampaignKind, Matter, MatterOutcome, MatterProgress
from campaigns.services import record_progress, sign_for_matter
from campaigns.tests.conftest import NOW
from conftest import make_user
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import Petitioner, Visit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_now")]


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def login(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    return response.content.decode()


# --- list -----------------------------------------------------------------------------------------


def test_list_shows_the_viewers_campaigns_in_chinese(client, cast, campaign, make_campaign, org):
    closed = make_campaign(name="去年的排查", kind=CampaignKind.SWEEP)
    Campaign.objects.filter(pk=closed.pk).update(state="closed")
    login(client, cast["supervisor"])
    response = client.get(reverse("campaigns:list"))
    assert response.status_code == 200
    body = text_of(response)
    assert "专项活动" in body
    rows = re.findall(r'data-testid="campaign-row" data-campaign="(\d+)" data-state="(\w+)"', body)
    # running first
    assert rows == [(str(campaign.pk), "open"), (str(closed.pk), "closed")]
    assert 'id="new-campaign"' in body


def test_outsider_sees_no_campaign_and_gets_404(client, cast, campaign, make_matter):
    matter = make_matter(campaign)
    login(client, cast["outsider"])
    assert campaign.name not in text_of(client.get(reverse("campaigns:list")))
    for url in (
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:matters", args=[campaign.pk]),
        reverse("campaigns:matter", args=[campaign.pk, matter.pk]),
        reverse("campaigns:ledger_export", args=[campaign.pk]),
        reverse("campaigns:summary_pdf", args=[campaign.pk]),
        reverse("campaigns:edit", args=[campaign.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_department_sees_matters_handed_down_to_it_with_a_sign_button(
    client, cast, campaign, make_matter
):
    matter = make_matter(campaign)
    login(client, cast["police"])
    body = text_of(client.get(reverse("campaigns:list")))
    assert f'data-testid="handed-row" data-matter="{matter.pk}"' in body
    assert f'id="sign-{matter.pk}"' in body
    assert 'id="new-campaign"' not in body  # an officer opens no campaign
    response = client.post(
        reverse("campaigns:matter_sign", args=[campaign.pk, matter.pk]),
        {"expected_version": matter.version, "next": reverse("campaigns:list")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:list")
    matter.refresh_from_db()
    assert matter.signed_by == cast["police"]


# --- create / edit --------------------------------------------------------------------------------


def _form_data(org, **changes):
    data = {
        "name": "百日会战",
        "kind": CampaignKind.BACKLOG,
        "center": org.city.pk,
        "starts_on": "2026-02-10",
        "ends_on": "2026-05-20",
        "resolution_target": "80",
        "cessation_target": "60",
        "progress_interval_days": "7",
        "observation_days": "90",
        "submission_key": "k-1",
    }
    data.update(changes)
    return data


def test_create_campaign_prg_and_double_submit_opens_one(client, cast, org):
    login(client, cast["supervisor"])
    assert client.get(reverse("campaigns:create")).status_code == 200
    first = client.post(reverse("campaigns:create"), _form_data(org))
    campaign = Campaign.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.targets == {"resolution_rate": 0.8, "cessation_rate": 0.6}
    assert campaign.created_by == cast["supervisor"]
    again = client.post(reverse("campaigns:create"), _form_data(org))
    assert again.status_code == 302
    assert again["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert Campaign.objects.count() == 1


def test_create_campaign_form_errors_in_chinese(client, cast, org):
    login(client, cast["supervisor"])
    response = client.post(
        reverse("campaigns:create"),
        _form_data(org, name="", ends_on="2026-01-01", resolution_target="120"),
    )
    assert response.status_code == 400
    body = text_of(response)
    errors = dict(re.findall(r'id="id_(\w+)_error"><li>([^<]*)</li>', body))
    assert errors == {
        "name": "此项为必填项。",
        "ends_on": "结束日期不能早于开始日期。",
        "resolution_target": "确保该值小于或等于100。",
    }
    assert not Campaign.objects.exists()


def test_only_supervisors_and_leaders_open_campaigns(client, cast):
    login(client, cast["police"])
    assert client.get(reverse("campaigns:create")).status_code == 403


def test_edit_campaign_stale_version_saves_nothing(client, cast, org, campaign):
    login(client, cast["supervisor"])
    data = _form_data(org, name="改名", expected_version=campaign.version)
    Campaign.objects.filter(pk=campaign.pk).update(version=campaign.version + 1)
    response = client.post(reverse("campaigns:edit", args=[campaign.pk]), data)
    assert response.status_code == 409
    assert "已被他人修改，请刷新" in text_of(response)
    campaign.refresh_from_db()
    assert campaign.name == "积案化解百日会战"


# --- campaign page --------------------------------------------------------------------------------


def test_campaign_page_for_its_center(client, cast, campaign, make_matter):
    make_matter(campaign)
    login(client, cast["supervisor"])
    response = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert response.status_code == 200
    body = text_of(response)
    assert 'data-testid="form-hand-down"' in body
    assert 'data-testid="figure-handed_down" data-count="1"' in body
    assert "<svg" in body
    assert 'data-testid="history-row"' in body


def test_subordinate_campaign_is_read_only_above(client, cast, org, make_campaign):
    county_supervisor = make_user("county_sup", org.county_a, [Role.SUPERVISOR])
    county_campaign = make_campaign(actor=county_supervisor, center=org.county_a, name="县积案")
    login(client, cast["supervisor"])
    body = text_of(client.get(reverse("campaigns:detail", args=[county_campaign.pk])))
    assert "县积案" in body
    assert 'data-testid="form-hand-down"' not in body
    assert 'id="edit-campaign"' not in body
    assert 'data-testid="form-close"' not in body
    assert client.get(reverse("campaigns:edit", args=[county_campaign.pk])).status_code == 403


def test_campaign_page_figures_link_to_their_matters(client, cast, org, campaign, make_matter):
    matters = [make_matter(campaign) for _ in range(3)]
    record_progress(
        actor=cast["police"],
        matter=matters[0],
        text="已化解",
        outcome="resolved",
        resolution="协调解决",
    )
    record_progress(
        actor=cast["police"],
        matter=matters[1],
        text="当事人拒绝",
        outcome="stalled",
        obstacle="诉求过高",
    )
    login(client, cast["supervisor"])
    body = text_of(client.get(reverse("campaigns:detail", args=[campaign.pk])))
    counts = dict(re.findall(r'data-testid="figure-(\w+)" data-count="(\d+)"', body))
    assert counts == {
        "handed_down": "3",
        "resolved": "1",
        "in_hand": "1",
        "stalled": "1",
        "terminated": "0",
        "ceased": "0",  # the observation window has not passed
    }
    # 化解率 1/3 against the 80% target: not met (red)
    assert 'data-testid="rate-resolution_rate" data-verdict="misses" data-value="0.3333"' in body
    listed = client.get(reverse("campaigns:matters", args=[campaign.pk]), {"state": "stalled"})
    assert re.findall(r'data-testid="ledger-row" data-matter="(\d+)"', text_of(listed)) == [
        str(matters[1].pk)
    ]
    police = org.dept(org.city, DepartmentKind.POLICE)
    by_department = client.get(
        reverse("campaigns:matters", args=[campaign.pk]),
        {"department": police.pk, "state": "resolved"},
    )
    assert re.findall(r'data-testid="ledger-row" data-matter="(\d+)"', text_of(by_department)) == [
        str(matters[0].pk)
    ]


def test_hand_down_through_the_page(client, cast, org, campaign, make_case):
    case = make_case()
    police = org.dept(org.city, DepartmentKind.POLICE)
    login(client, cast["supervisor"])
    data = {
        "handdown-case_number": case.number,
        "handdown-receiver": f"d:{police.pk}",
        "handdown-due_on": "2026-04-30",
        "handdown-target_result": "息诉罢访",
        "handdown-summary": "多年上访",
    }
    response = client.post(reverse("campaigns:matter_create", args=[campaign.pk]), data)
    matter = Matter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:matter", args=[campaign.pk, matter.pk])
    assert matter.leader == cast["head"]  # defaulted to the department's head
    assert matter.summary == "多年上访"
    # the same form again: one matter, back to it
    again = client.post(reverse("campaigns:matter_create", args=[campaign.pk]), data)
    assert again.status_code == 302 and Matter.objects.count() == 1


def test_hand_down_errors_in_chinese(client, cast, campaign):
    login(client, cast["supervisor"])
    response = client.post(
        reverse("campaigns:matter_create", args=[campaign.pk]),
        {"handdown-case_number": "NOPE", "handdown-due_on": "2026-01-01"},
    )
    assert response.status_code == 400
    errors = dict(re.findall(r'id="id_handdown-(\w+)_error"><li>([^<]*)</li>', text_of(response)))
    assert errors["case_number"] == "没有您可查看的该编号案件。"
    assert errors["receiver"] == "此项为必填项。"
    assert not Matter.objects.exists()


# --- matter page ----------------------------------------------------------------------------------


def test_matter_page_for_the_receiving_department(client, cast, campaign, make_matter):
    matter = make_matter(campaign, summary="多年信访")
    login(client, cast["police"])
    response = client.get(reverse("campaigns:matter", args=[campaign.pk, matter.pk]))
    assert response.status_code == 200
    body = text_of(response)
    assert "个案台账" in body and "多年信访" in body
    for testid in ("form-ledger", "form-progress", "form-sign"):
        assert f'data-testid="{testid}"' in body, testid


def test_progress_prg_and_double_submit(client, cast, campaign, make_matter):
    matter = make_matter(campaign)
    login(client, cast["police"])
    data = {
        "progress-text": "约谈当事人",
        "progress-outcome": "resolved",
        "progress-resolution": "签订和解协议",
        "progress-expected_version": matter.version,
        "progress-submission_key": "abc",
    }
    url = reverse("campaigns:matter_progress", args=[campaign.pk, matter.pk])
    first = client.post(url, data)
    assert first.status_code == 302
    assert first["Location"] == reverse("campaigns:matter", args=[campaign.pk, matter.pk])
    second = client.post(url, data)
    assert second.status_code == 302
    assert MatterProgress.objects.filter(matter=matter).count() == 1
    matter.refresh_from_db()
    assert matter.outcome == MatterOutcome.RESOLVED and matter.resolution == "签订和解协议"


def test_progress_form_errors_and_stale_version(client, cast, campaign, make_matter):
    matter = make_matter(campaign)
    login(client, cast["police"])
    url = reverse("campaigns:matter_progress", args=[campaign.pk, matter.pk])
    bad = client.post(url, {"progress-text": "x", "progress-outcome": "stalled"})
    assert bad.status_code == 400
    assert "请说明存在的困难。" in text_of(bad)
    stale = client.post(
        url,
        {
            "progress-text": "x",
            "progress-outcome": "in_hand",
            "progress-expected_version": matter.version - 1 if matter.version > 1 else 99,
        },
    )
    assert stale.status_code == 409
    assert "已被他人修改，请刷新" in text_of(stale)
    assert not MatterProgress.objects.exists()


def test_ledger_stale_write_saves_nothing(client, cast, campaign, make_matter):
    matter = make_matter(campaign, work_done="走访")
    login(client, cast["police"])
    url = reverse("campaigns:matter_ledger", args=[campaign.pk, matter.pk])
    version = matter.version
    sign_for_matter(actor=cast["head"], matter=matter)  # someone else writes first
    response = client.post(url, {"ledger-work_done": "改写", "ledger-expected_version": version})
    assert response.status_code == 409
    assert "已被他人修改，请刷新" in text_of(response)
    matter.refresh_from_db()
    assert matter.work_done == "走访"
    ok = client.post(url, {"ledger-work_done": "改写", "ledger-expected_version": matter.version})
    assert ok.status_code == 302
    matter.refresh_from_db()
    assert matter.work_done == "改写"


def test_read_only_subordinate_matter_has_no_write_forms(
    client, cast, org, make_campaign, make_case
):
    from campaigns.services import hand_down_matter

    county_supervisor = make_user("county_sup", org.county_a, [Role.SUPERVISOR])
    county_head = make_user(
        "county_head", org.county_a, [Role.HEAD], org.dept(org.county_a, DepartmentKind.POLICE)
    )
    county_campaign = make_campaign(actor=county_supervisor, center=org.county_a, name="县积案")
    matter = hand_down_matter(
        actor=county_supervisor,
        campaign=county_campaign,
        case=make_case(center=org.county_a),
        department=org.dept(org.county_a, DepartmentKind.POLICE),
        leader=county_head,
        due_on=date(2026, 5, 1),
        target_result="化解",
    )
    login(client, cast["supervisor"])  # the city, above the county
    body = text_of(client.get(reverse("campaigns:matter", args=[county_campaign.pk, matter.pk])))
    for testid in ("form-ledger", "form-progress", "form-sign"):
        assert f'data-testid="{testid}"' not in body, testid


# --- exports --------------------------------------------------------------------------------------


def test_ledger_export_cells(client, cast, org, campaign, make_matter, make_case):
    person = Petitioner(name='=HYPERLINK("http://x")')
    person.set_id_number("130102198001011234")
    person.set_phone("13912345678")
    person.save()
    matter = make_matter(campaign, case=make_case(petitioner=person), summary="+1 多年信访")
    login(client, cast["supervisor"])
    response = client.get(reverse("campaigns:ledger_export", args=[campaign.pk]))
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "积案化解百日会战"
    assert rows[1][:3] == ("信访件编号", "信访人", "证件号码")
    assert len(rows) == 3
    row = rows[2]
    assert row[0] == matter.case.number
    assert row[1] == '=HYPERLINK("http://x")'
    assert row[12] == "+1 多年信访"
    cells = list(sheet.iter_rows(min_row=3, max_row=3))[0]
    assert cells[1].data_type == "s" and cells[12].data_type == "s"  # text, not formulas
    assert (row[2], row[3]) == (person.id_number_masked, person.phone_masked)
    assert "*" in row[2] and "*" in row[3]
    assert "130102198001011234" not in repr(rows) and "13912345678" not in repr(rows)
    assert row[8] == datetime(2026, 5, 31)


def test_summary_pdf_first_paragraph_matches_a_hand_count(
    client, cast, campaign, make_matter, at_now
):
    from pypdf import PdfReader

    matters = [make_matter(campaign) for _ in range(12)]
    for m in matters[:9]:  # 9 resolved on 10 Feb
        record_progress(
            actor=cast["police"], matter=m, text="化解", outcome="resolved", resolution="和解"
        )
    record_progress(
        actor=cast["police"], matter=matters[9], text="停滞", outcome="stalled", obstacle="难"
    )

    def visit(case, days):
        Visit.objects.create(
            case=case,
            petitioner=case.main_petitioner,
            center=case.center,
            channel=case.channel,
            at=NOW + timedelta(days=days),
            received_by=cast["reception"],
        )

    visit(matters[0].case, 30)  # back within the 90-day window: not ceased
    visit(matters[1].case, 95)  # back after it: ceased all the same
    at_now.move_to(NOW + timedelta(days=100))
    # hand count: 12 handed down, 9 resolved, 3 still in hand (2 in hand, 1 stalled),
    # 8 ceased (9 resolved less the one who came back in time): 8/12 = 67%
    login(client, cast["supervisor"])
    response = client.get(reverse("campaigns:summary_pdf", args=[campaign.pk]))
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    paragraphs = text.split("\n")
    assert paragraphs[2].strip() == "上级交办积案 12 起，已化解 9 起，正在处理 3 起，息诉率 67%。"


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_campaign_page_and_ledger_queries_do_not_grow_with_matters(
    client, cast, org, campaign, make_matter, make_case
):
    county_police = org.dept(org.county_a, DepartmentKind.POLICE)
    county_head = make_user("county_head", org.county_a, [Role.HEAD], county_police)
    campaign.include_subordinates = True
    campaign.save(update_fields=["include_subordinates"])
    make_matter(campaign)
    make_matter(
        campaign,
        case=make_case(center=org.county_a),
        department=county_police,
        leader=county_head,
        handler=None,
    )
    login(client, cast["supervisor"])
    pages = [
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:matters", args=[campaign.pk]),
        reverse("campaigns:list"),
    ]
    before = [_queries(client, url) for url in pages]
    for _ in range(3):
        make_matter(campaign)
        make_matter(
            campaign,
            case=make_case(center=org.county_a),
            department=county_police,
            leader=county_head,
            handler=None,
        )
    after = [_queries(client, url) for url in pages]
    assert after == before


# --- dashboard ------------------------------------------------------------------------------------


def test_dashboard_shows_running_campaigns_with_overdue_matters(
    client, cast, campaign, make_matter, at_now
):
    make_matter(campaign, due_on=date(2026, 3, 1))
    make_matter(campaign, due_on=date(2026, 3, 1))
    make_matter(campaign, due_on=date(2026, 6, 1))
    at_now.move_to(NOW + timedelta(days=30))  # 12 March: two matters overdue
    login(client, cast["supervisor"])
    body = text_of(client.get(reverse("supervision:dashboard")))
    assert f'data-testid="panel-campaign" data-campaign="{campaign.pk}"' in body
    assert 'data-testid="panel-overdue" data-count="2"' in body
    listed = client.get(reverse("campaigns:matters", args=[campaign.pk]), {"state": "overdue"})
    assert len(re.findall(r'data-testid="ledger-row"', text_of(listed))) == 2


def test_nav_link_for_supervisors_and_heads_only(client, cast):
    url = reverse("campaigns:list")
    for name, shown in (
        ("supervisor", True),
        ("leader", True),
        ("head", True),
        ("reception", False),
    ):
        login(client, cast[name])
        body = text_of(client.get(reverse("home")))
        assert (f'href="{url}" data-nav="campaigns:list"' in body) is shown, name
