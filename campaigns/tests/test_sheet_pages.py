# ruff: noqa: F811 (pytest fixtures imported from review_fixtures are redefined as arguments)
"""Score sheet pages (评查评分表): the list with the default sheet, a copy for the center, the
edit page (items by section, rows added and removed, errors, the frozen sheet), who may reach
them, and the edit page's query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import services
from campaigns.defaults import DEFAULT_ITEMS
from campaigns.models import CampaignKind, SampledCase, ScoreItem, ScoreSheet
from campaigns.services.review import default_sheet
from conftest import make_user
from core.models import User
from core.roles import Role

from .review_fixtures import handled  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PREFIX = "items"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


def rows_of(sheet: ScoreSheet) -> list[tuple[str, str, int]]:
    return [(i.section, i.criterion, i.points) for i in sheet.items.order_by("sort_order", "pk")]


def post_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The edit form as the browser sends it: {id, section, criterion, points, delete} rows."""
    data: dict[str, Any] = {
        f"{PREFIX}-TOTAL_FORMS": str(len(rows)),
        f"{PREFIX}-INITIAL_FORMS": str(len(rows)),
        f"{PREFIX}-MIN_NUM_FORMS": "0",
        f"{PREFIX}-MAX_NUM_FORMS": "200",
    }
    for n, row in enumerate(rows):
        data[f"{PREFIX}-{n}-id"] = row.get("id") or ""
        data[f"{PREFIX}-{n}-section"] = row["section"]
        data[f"{PREFIX}-{n}-criterion"] = row.get("criterion", "")
        data[f"{PREFIX}-{n}-points"] = "" if row.get("points") is None else str(row["points"])
        if row.get("delete"):
            data[f"{PREFIX}-{n}-DELETE"] = "on"
    return data


def current_rows(sheet: ScoreSheet) -> list[dict[str, Any]]:
    return [
        {"id": i.pk, "section": i.section, "criterion": i.criterion, "points": i.points}
        for i in sheet.items.order_by("sort_order", "pk")
    ]


@pytest.fixture
def city_sheet(org: Any, cast: dict[str, User]) -> ScoreSheet:
    return services.copy_score_sheet(actor=cast["supervisor"], center=org.city)


# --- the list and the copy ----------------------------------------------------------------------


def test_list_shows_the_default_sheet_read_only_and_the_centers_own(
    cast: dict[str, User], city_sheet: ScoreSheet
):
    response = login(cast["supervisor"]).get(reverse("campaigns:sheet_list"))

    assert response.status_code == 200
    body = text(response)
    default = default_sheet()
    assert default is not None
    # every default criterion, by section, and its total (17 items, 100 points)
    for _section, criterion, _points in DEFAULT_ITEMS:
        assert criterion in body
    assert body.count('data-item="') == len(DEFAULT_ITEMS) == 17
    assert 'data-testid="default-items-total">100<' in body
    assert "事实证据" in body and "答复与回访" in body
    # no edit link to the default sheet; one to the center's own
    assert reverse("campaigns:sheet_edit", args=[default.pk]) not in body
    assert reverse("campaigns:sheet_edit", args=[city_sheet.pk]) in body
    assert f'data-sheet="{city_sheet.pk}"' in body


def test_copy_the_default_sheet_for_the_users_center(org: Any, cast: dict[str, User]):
    earlier = services.copy_score_sheet(actor=cast["supervisor"], center=org.city)
    client = login(cast["leader"])

    response = client.post(reverse("campaigns:sheet_copy"), {"name": "市中心评查表（2026）"})

    sheet = ScoreSheet.objects.get(name="市中心评查表（2026）")
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:sheet_edit", args=[sheet.pk])
    assert sheet.center_id == org.city.pk and sheet.is_active
    assert rows_of(sheet) == [tuple(row) for row in DEFAULT_ITEMS]
    earlier.refresh_from_db()
    assert not earlier.is_active  # one active sheet per center
    assert sheet.history.first().history_user_id == cast["leader"].pk
    page = client.get(response["Location"])
    assert "已成为本中心的评查评分表" in text(page)


def test_copy_of_another_centers_sheet_is_not_found(org: Any, cast: dict[str, User]):
    county_supervisor = make_user("cs", org.county_a, [Role.SUPERVISOR])
    county_sheet = services.copy_score_sheet(actor=county_supervisor, center=org.county_a)

    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_copy"), {"source": county_sheet.pk}
    )

    assert response.status_code == 404
    assert not ScoreSheet.objects.filter(center=org.city).exists()


# --- the edit page ------------------------------------------------------------------------------


def test_edit_page_groups_the_items_by_section_with_the_total(
    cast: dict[str, User], city_sheet: ScoreSheet
):
    response = login(cast["supervisor"]).get(reverse("campaigns:sheet_edit", args=[city_sheet.pk]))

    assert response.status_code == 200
    body = text(response)
    # 17 items and one blank row per section (6), each in its section's group
    assert body.count('data-testid="item-row"') == 17 + 6 + 1  # + the row template
    assert 'data-subtotal="facts">23<' in body  # 8 + 10 + 5
    assert 'data-subtotal="time_limits">12<' in body  # 4 + 6 + 2
    assert 'data-testid="sheet-total" data-want="100">100<' in body
    assert "js/score_sheet.js" in body


def test_save_changes_removes_and_adds_items(cast: dict[str, User], city_sheet: ScoreSheet):
    rows = current_rows(city_sheet)
    first_id, last_id = rows[0]["id"], rows[-1]["id"]
    rows[0]["points"] = 6  # 8 → 6
    rows[0]["criterion"] = "诉求登记完整准确"
    rows[-1]["delete"] = True  # time limits: 2 points off
    rows.append({"section": "time_limits", "criterion": "", "points": None})  # blank: ignored
    rows.append({"section": "law", "criterion": "新增：法律文书引用准确", "points": 4})

    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_edit", args=[city_sheet.pk]), post_data(rows)
    )

    assert response.status_code == 302
    saved = list(city_sheet.items.order_by("sort_order", "pk"))
    assert len(saved) == 17  # one removed, one added
    assert not ScoreItem.objects.filter(pk=last_id).exists()
    assert (saved[0].pk, saved[0].criterion, saved[0].points) == (first_id, "诉求登记完整准确", 6)
    # the new law item joins its section at its end, before the procedure items
    assert [(i.section, i.criterion, i.points) for i in saved[3:6]] == [
        ("law", DEFAULT_ITEMS[3][1], 10),
        ("law", DEFAULT_ITEMS[4][1], 8),
        ("law", "新增：法律文书引用准确", 4),
    ]
    assert saved[6].section == "procedure"
    assert sum(i.points for i in saved) == 100
    assert saved[0].history.first().history_user_id == cast["supervisor"].pk


def test_a_total_other_than_100_is_refused_and_nothing_saved(
    cast: dict[str, User], city_sheet: ScoreSheet
):
    before = rows_of(city_sheet)
    rows = current_rows(city_sheet)
    rows[0]["points"] = 7  # total 99

    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_edit", args=[city_sheet.pk]), post_data(rows)
    )

    assert response.status_code == 400
    body = text(response)
    assert "各项合计99分，须合计100分。" in body
    assert 'data-testid="sheet-total" data-want="100" class="text-danger">99<' in body
    assert rows_of(city_sheet) == before


def test_empty_criterion_and_points_below_one_are_row_errors(
    cast: dict[str, User], city_sheet: ScoreSheet
):
    before = rows_of(city_sheet)
    rows = current_rows(city_sheet)
    rows[1]["criterion"] = "   "
    rows[2]["points"] = 0
    rows.append({"section": "documents", "criterion": "只有标准，没有分值"})

    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_edit", args=[city_sheet.pk]), post_data(rows)
    )

    assert response.status_code == 400
    body = text(response)
    assert body.count("请填写评查标准。") == 1
    assert body.count("分值须为不小于1的整数。") == 2  # the 0, and the row without points
    assert rows_of(city_sheet) == before


def test_removing_every_item_is_refused(cast: dict[str, User], city_sheet: ScoreSheet):
    rows = [dict(row, delete=True) for row in current_rows(city_sheet)]

    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_edit", args=[city_sheet.pk]), post_data(rows)
    )

    assert response.status_code == 400
    assert "评分表至少要有一项。" in text(response)
    assert city_sheet.items.count() == 17


@pytest.fixture
def scored_sheet(
    org: Any,
    cast: dict[str, User],
    city_sheet: ScoreSheet,
    make_campaign: Any,
    at_now: Any,
    handled,
) -> ScoreSheet:
    """The city sheet, scored on by a review of one sampled case."""
    review = make_campaign(
        name="评查", kind=CampaignKind.QUALITY_REVIEW, targets={}, score_sheet=city_sheet
    )
    sample = SampledCase.objects.create(campaign=review, case=handled(), rule="random")
    services.assign_reviewers(actor=cast["supervisor"], sample=sample, reviewers=[cast["leader"]])
    services.submit_review(
        actor=cast["leader"],
        campaign=review,
        case=sample.case,
        scores=[{"item": i.pk, "points": i.points, "note": ""} for i in city_sheet.items.all()],
    )
    return city_sheet


def test_a_scored_sheet_is_shown_read_only_with_the_reason(
    cast: dict[str, User], scored_sheet: ScoreSheet
):
    response = login(cast["supervisor"]).get(
        reverse("campaigns:sheet_edit", args=[scored_sheet.pk])
    )

    assert response.status_code == 200
    body = text(response)
    assert 'data-testid="frozen"' in body
    assert "已有评查按此表打分，不能再修改；请复制后另建新表。" in body
    assert 'data-testid="sheet-form"' not in body and "<textarea" not in body
    assert body.count('data-item="') == 17
    assert f'name="source" value="{scored_sheet.pk}"' in body  # copy this one


def test_saving_a_scored_sheet_is_refused_with_409(cast: dict[str, User], scored_sheet: ScoreSheet):
    before = rows_of(scored_sheet)
    rows = current_rows(scored_sheet)
    rows[0]["points"], rows[1]["points"] = 7, 11  # still 100

    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_edit", args=[scored_sheet.pk]), post_data(rows)
    )

    assert response.status_code == 409
    assert "已有评查按此表打分" in text(response)
    assert rows_of(scored_sheet) == before


def test_a_scored_sheet_can_be_copied_into_a_new_editable_one(
    org: Any, cast: dict[str, User], scored_sheet: ScoreSheet
):
    response = login(cast["supervisor"]).post(
        reverse("campaigns:sheet_copy"), {"source": scored_sheet.pk, "name": "新表"}
    )

    new = ScoreSheet.objects.get(name="新表")
    assert response["Location"] == reverse("campaigns:sheet_edit", args=[new.pk])
    assert rows_of(new) == rows_of(scored_sheet)
    page = login(cast["supervisor"]).get(response["Location"])
    assert 'data-testid="sheet-form"' in text(page)


# --- who -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["police", "reception", "head"])
def test_staff_without_a_sheet_role_are_refused(
    cast: dict[str, User], city_sheet: ScoreSheet, who: str
):
    client = login(cast[who])
    rows = current_rows(city_sheet)
    rows[0]["points"], rows[1]["points"] = 7, 11

    assert client.get(reverse("campaigns:sheet_list")).status_code == 403
    assert client.get(reverse("campaigns:sheet_edit", args=[city_sheet.pk])).status_code == 403
    edit = client.post(reverse("campaigns:sheet_edit", args=[city_sheet.pk]), post_data(rows))
    copy = client.post(reverse("campaigns:sheet_copy"), {"name": "x"})

    assert (edit.status_code, copy.status_code) == (403, 403)
    assert rows_of(city_sheet)[0][2] == 8
    assert ScoreSheet.objects.filter(center__isnull=False).count() == 1


def test_another_centers_sheet_is_not_found(org: Any, cast: dict[str, User], city_sheet: Any):
    county_a = make_user("county_a_supervisor", org.county_a, [Role.SUPERVISOR])
    county_b = make_user("county_b_supervisor", org.county_b, [Role.SUPERVISOR])
    county_sheet = services.copy_score_sheet(actor=county_a, center=org.county_a)
    rows = current_rows(county_sheet)
    rows[0]["points"], rows[1]["points"] = 7, 11

    # another county, and the city above it (its sheets are the county's own business)
    for user in (county_b, cast["supervisor"]):
        client = login(user)
        url = reverse("campaigns:sheet_edit", args=[county_sheet.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, post_data(rows)).status_code == 404
    # the county's sheet is not in the city's list, nor the city's in the county's
    assert f'data-sheet="{county_sheet.pk}"' not in text(
        login(cast["supervisor"]).get(reverse("campaigns:sheet_list"))
    )
    county_list = text(login(county_a).get(reverse("campaigns:sheet_list")))
    assert f'data-sheet="{county_sheet.pk}"' in county_list
    assert f'data-sheet="{city_sheet.pk}"' not in county_list
    assert rows_of(county_sheet)[0][2] == 8


def test_the_default_sheet_has_no_edit_page(cast: dict[str, User]):
    default = default_sheet()
    assert default is not None

    response = login(cast["admin"]).get(reverse("campaigns:sheet_edit", args=[default.pk]))

    assert response.status_code == 404


def test_links_from_the_campaigns_list_for_managers(cast: dict[str, User]):
    url = reverse("campaigns:sheet_list")

    assert url in text(login(cast["supervisor"]).get(reverse("campaigns:list")))
    assert url not in text(login(cast["police"]).get(reverse("campaigns:list")))


def test_link_from_the_review_results_page(cast: dict[str, User], make_campaign: Any, at_now: Any):
    review = make_campaign(name="评查", kind=CampaignKind.QUALITY_REVIEW, targets={})

    response = login(cast["supervisor"]).get(reverse("campaigns:review_results", args=[review.pk]))

    assert response.status_code == 200
    assert reverse("campaigns:sheet_list") in text(response)


# --- cost ----------------------------------------------------------------------------------------


def test_edit_page_queries_do_not_grow_with_the_items(
    cast: dict[str, User], city_sheet: ScoreSheet
):
    client = login(cast["supervisor"])
    url = reverse("campaigns:sheet_edit", args=[city_sheet.pk])
    client.get(url)  # warm the session and caches

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    ScoreItem.objects.bulk_create(
        ScoreItem(sheet=city_sheet, section="documents", criterion=f"补充{n}", points=1)
        for n in range(20)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert text(response).count('data-testid="item-row"') == 17 + 20 + 6 + 1
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
