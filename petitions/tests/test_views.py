"""Staff case pages: list, case page, personal-number reveal, attachments."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import DepartmentKind, PiiAccessLog
from petitions import views
from petitions.models import Attachment, Case, Channel, ContentCategory, Purpose
from petitions.services import add_attachment, answer_on_spot, record_repeat_visit, register_case
from petitions.states import CaseState
from petitions.templatetags.petition_tags import days_left, state_tag
from petitions.testing import case_data, make_petitioner, register, resident_id
from routing.models import Assignment, AssignmentRole

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def login():
    """A logged-in client for a user, in English so assertions survive the Chinese translation."""

    def _login(user):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def listed(response) -> list[str]:
    return [c.number for c in response.context["cases"]]


def list_url(**params) -> str:
    from urllib.parse import urlencode

    return reverse("petitions:case_list") + ("?" + urlencode(params) if params else "")


def assign(case, department, by):
    now = timezone.now()
    return Assignment.objects.create(
        case=case,
        department=department,
        role=AssignmentRole.LEAD,
        due_at=now + timedelta(days=60),
        assigned_by=by,
        assigned_at=now,
    )


# --- list: scoping ------------------------------------------------------------------------------


def test_list_requires_login(client, cast):
    response = client.get(list_url())
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_city_staff_see_their_own_and_county_cases_newest_first(cast, login):
    older = register(cast["reception"]).case
    county = register(cast["county_reception"]).case
    response = login(cast["supervisor"]).get(list_url())
    assert response.status_code == 200
    assert listed(response) == [county.number, older.number]


def test_county_user_sees_only_the_county(cast, login):
    register(cast["reception"])
    county = register(cast["county_reception"]).case
    assert listed(login(cast["county_reception"]).get(list_url())) == [county.number]


def test_outsider_sees_no_case(cast, login):
    register(cast["reception"])
    register(cast["county_reception"])
    response = login(cast["outsider"]).get(list_url())
    assert response.status_code == 200 and listed(response) == []


def test_officer_sees_only_cases_assigned_to_the_department(cast, org, login):
    mine = register(cast["reception"]).case
    neighbours = register(cast["reception"]).case
    register(cast["reception"])  # not assigned at all
    assign(mine, org.dept(org.city, DepartmentKind.POLICE), cast["triage"])
    assign(neighbours, org.dept(org.city, DepartmentKind.COURT), cast["triage"])
    assert listed(login(cast["police"]).get(list_url())) == [mine.number]
    assert listed(login(cast["court"]).get(list_url())) == [neighbours.number]


# --- list: filters ------------------------------------------------------------------------------


def test_filter_by_state_including_open_and_overdue(cast, login):
    reception = cast["reception"]
    open_case = register(reception).case
    closed = register(reception).case
    answer_on_spot(actor=reception, case=closed, answer="已当场答复。")
    client = login(cast["supervisor"])
    assert listed(client.get(list_url(state=CaseState.CLOSED))) == [closed.number]
    assert listed(client.get(list_url(state="open"))) == [open_case.number]
    # The screening clock (15 days) has not run out yet: nothing is overdue now ...
    assert listed(client.get(list_url(state="overdue"))) == []
    # ... but it is three weeks later, and the closed case is not counted.
    with time_machine.travel(timezone.now() + timedelta(days=21)):
        client = login(cast["supervisor"])  # the session of three weeks ago has expired
        assert listed(client.get(list_url(state="overdue"))) == [open_case.number]


def test_filter_by_codes_and_parent_category_includes_children(cast, login):
    reception = cast["reception"]
    letter = register(reception, channel=Channel.objects.get(code="letter")).case
    enquiry = register(reception, purpose=Purpose.objects.get(code="enquiry")).case
    police = register(reception, category=ContentCategory.objects.get(code="police.law")).case
    default = register(reception).case  # visit, appeal, court.execution
    client = login(cast["supervisor"])
    channel = Channel.objects.get(code="letter")
    assert listed(client.get(list_url(channel=channel.pk))) == [letter.number]
    purpose = Purpose.objects.get(code="enquiry")
    assert listed(client.get(list_url(purpose=purpose.pk))) == [enquiry.number]
    parent = ContentCategory.objects.get(code="police")
    assert listed(client.get(list_url(category=parent.pk))) == [police.number]
    child = ContentCategory.objects.get(code="court.execution")
    assert set(listed(client.get(list_url(category=child.pk)))) == {
        letter.number,
        enquiry.number,
        default.number,
    }


def test_filter_by_flags(cast, login):
    reception = cast["reception"]
    urgent = register(reception, is_major_urgent=True).case
    risk = register(reception, is_safety_risk=True).case
    not_law = register(reception, is_law_related=False).case
    reps = [make_petitioner(reception, name="代表甲")]
    group = register(reception, headcount=8, representatives=reps).case
    client = login(cast["supervisor"])
    assert listed(client.get(list_url(is_major_urgent="yes"))) == [urgent.number]
    assert listed(client.get(list_url(is_safety_risk="yes"))) == [risk.number]
    assert listed(client.get(list_url(is_group="yes"))) == [group.number]
    assert listed(client.get(list_url(is_law_related="no"))) == [not_law.number]
    assert len(listed(client.get(list_url(is_law_related="yes")))) == 3


def test_filter_by_case_number_exact_and_prefix(cast, login):
    first = register(cast["reception"]).case
    second = register(cast["reception"]).case
    county = register(cast["county_reception"]).case
    client = login(cast["supervisor"])
    assert listed(client.get(list_url(number=first.number))) == [first.number]
    assert listed(client.get(list_url(number=f" {second.number.lower()} "))) == [second.number]
    assert set(listed(client.get(list_url(number="130100")))) == {first.number, second.number}
    assert listed(client.get(list_url(number="130121"))) == [county.number]


def test_filter_by_registered_date_range_uses_beijing_days(cast, login):
    reception = cast["reception"]

    def at(day: int, hour: int) -> Case:
        when = datetime(2026, 3, day, hour, 30, tzinfo=BEIJING)
        petitioner = make_petitioner(reception)
        return register_case(actor=reception, petitioner=petitioner, data=case_data(), at=when).case

    before = at(9, 23)
    early = at(10, 0)  # 16:30 UTC on the 9th, but the 10th in Beijing
    late = at(12, 23)
    after = at(13, 0)
    client = login(cast["supervisor"])
    response = client.get(list_url(registered_from="2026-03-10", registered_to="2026-03-12"))
    assert listed(response) == [late.number, early.number]
    assert before.number not in listed(response) and after.number not in listed(response)


def test_filter_by_center_offers_and_accepts_only_visible_centers(cast, org, login):
    city = register(cast["reception"]).case
    county = register(cast["county_reception"]).case
    response = login(cast["supervisor"]).get(list_url(center=org.county_a.pk))
    assert listed(response) == [county.number]
    offered = set(response.context["form"].fields["center"].queryset)
    assert offered == {org.city, org.county_a, org.county_b}
    # A county user cannot ask for the city's center: the choice is refused, nothing leaks.
    response = login(cast["county_reception"]).get(list_url(center=org.city.pk))
    assert response.context["form"].errors["center"]
    assert city.number not in listed(response)


def test_reversed_date_range_is_an_error_on_the_form(cast, login):
    response = login(cast["supervisor"]).get(
        list_url(registered_from="2026-03-12", registered_to="2026-03-10")
    )
    assert response.status_code == 200 and response.context["form"].errors["registered_to"]


# --- list: columns, pagination, queries ----------------------------------------------------------


def test_list_row_shows_the_columns(cast, login):
    petitioner = make_petitioner(cast["reception"], name="王五")
    case = register(cast["reception"], petitioner).case
    html = login(cast["supervisor"]).get(list_url()).content.decode()
    assert reverse("petitions:case_detail", args=[case.pk]) in html
    assert "王五" in html and "市中心" in html and "执行难、执行不当" in html
    assert "Registered, awaiting screening" in html and "state-open" in html
    assert "15 days left" in html


def test_overdue_case_is_marked_in_the_list(cast, login):
    register(cast["reception"])
    with time_machine.travel(timezone.now() + timedelta(days=18)):
        html = login(cast["supervisor"]).get(list_url()).content.decode()
    assert "state-overdue" in html and "deadline overdue" in html
    assert "days overdue" in html


def test_keyset_pagination_walks_forward_and_back_without_overlap(cast, login, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    numbers = [register(cast["reception"]).case.number for _ in range(5)][::-1]  # newest first
    client = login(cast["supervisor"])
    first = client.get(list_url(channel=Channel.objects.get(code="visit").pk))
    page = first.context["page"]
    assert listed(first) == numbers[:2] and page.has_next and not page.has_previous
    assert "channel=" in page.next_query  # filters are kept while paging
    second = client.get(list_url() + "?" + page.next_query)
    assert listed(second) == numbers[2:4] and second.context["page"].has_previous
    third = client.get(list_url() + "?" + second.context["page"].next_query)
    assert listed(third) == numbers[4:] and not third.context["page"].has_next
    back = client.get(list_url() + "?" + third.context["page"].previous_query)
    assert listed(back) == numbers[2:4]
    back = client.get(list_url() + "?" + back.context["page"].previous_query)
    assert listed(back) == numbers[:2] and not back.context["page"].has_previous


def test_a_malformed_cursor_shows_the_first_page(cast, login):
    case = register(cast["reception"]).case
    response = login(cast["supervisor"]).get(list_url(after="not-a-cursor!"))
    assert response.status_code == 200 and listed(response) == [case.number]


def test_list_does_not_count_rows(cast, login):
    register(cast["reception"])
    with CaptureQueriesContext(connection) as ctx:
        login(cast["supervisor"]).get(list_url())
    case_counts = [
        q
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"].upper() and '"petitions_case"' in q["sql"].split("WHERE")[0]
    ]
    assert not case_counts


def test_list_query_count_does_not_grow_with_rows(cast, login, django_assert_num_queries):
    reception = cast["reception"]
    for i in range(3):
        register(reception, request=f"请求{i}")
    client = login(cast["supervisor"])
    client.get(list_url())  # the process's caches warm (core.codecache, sessions)
    with CaptureQueriesContext(connection) as ctx:
        assert len(listed(client.get(list_url()))) == 3
    for _ in range(17):
        register(reception)
    with django_assert_num_queries(len(ctx.captured_queries)):
        assert len(listed(client.get(list_url()))) == 20


# --- case page ----------------------------------------------------------------------------------


def detail_url(case) -> str:
    return reverse("petitions:case_detail", args=[case.pk])


def test_case_page_shows_facts_and_masked_numbers_only(cast, login):
    number = resident_id()
    petitioner = make_petitioner(
        cast["reception"], name="赵六", id_number=number, phone="13900001111"
    )
    reps = [make_petitioner(cast["reception"], name="代表乙", phone="13700002222")]
    case = register(
        cast["reception"],
        petitioner,
        legal_case_number="(2024)冀0102执123号",
        headcount=6,
        representatives=reps,
    ).case
    response = login(cast["triage"]).get(detail_url(case))
    html = response.content.decode()
    assert response.status_code == 200
    for label in (
        "Case number",
        "Channel",
        "Content category",
        "Related legal case number",
        "Headcount",
        "Request",
        "Registered by",
        "Next deadline",
    ):
        assert f"<dt>{label}</dt>" in html
    assert "(2024)冀0102执123号" in html
    assert "Main petitioner" in html and "Representative" in html
    assert petitioner.id_number_masked in html and "139****1111" in html
    assert number not in html and "13900001111" not in html and "13700002222" not in html
    assert reverse("petitions:reveal_pii", args=[case.pk, petitioner.pk, "id_number"]) in html


def test_case_page_is_404_alike_for_not_yours_and_not_found(cast, login):
    city_case = register(cast["reception"]).case
    client = login(cast["county_reception"])
    not_yours = client.get(detail_url(city_case))
    missing = client.get(reverse("petitions:case_detail", args=[city_case.pk + 1000]))
    assert not_yours.status_code == missing.status_code == 404
    assert not_yours.content == missing.content


def test_outsider_and_unassigned_officer_get_404(cast, login):
    case = register(cast["reception"]).case
    assert login(cast["outsider"]).get(detail_url(case)).status_code == 404
    assert login(cast["police"]).get(detail_url(case)).status_code == 404


def test_request_text_is_escaped(cast, login):
    case = register(
        cast["reception"], request='<script>alert("x")</script>', facts_reasons="<b>bold</b>"
    ).case
    html = login(cast["triage"]).get(detail_url(case)).content.decode()
    assert '<script>alert("x")</script>' not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_actions_are_those_the_roles_allow_in_this_state(cast, login):
    case = register(cast["reception"]).case
    actions = login(cast["triage"]).get(detail_url(case)).context["actions"]
    # only working actions (petitions.actions): the screening decisions, each a link to its form;
    # answering on the spot happens at the desk while registering, so it is not offered here
    assert {a.name for a in actions} == {
        "routing.assign",
        "routing.not_accept",
        "routing.refer",
        "routing.legal",
        "routing.transfer",
    }
    assert all(a.url.startswith(f"/triage/{case.pk}/#decision-") for a in actions)
    html = login(cast["archivist"]).get(detail_url(case)).content.decode()
    assert "No actions are available to you in this state." in html


def test_subordinate_center_case_is_read_only(cast, login):
    county_case = register(cast["county_reception"]).case
    response = login(cast["triage"]).get(detail_url(county_case))
    assert response.status_code == 200
    assert response.context["actions"] == [] and 'data-testid="read-only-notice"' in (
        response.content.decode()
    )
    own = login(cast["county_triage"]).get(detail_url(county_case))
    assert own.context["actions"] and 'data-testid="read-only-notice"' not in own.content.decode()


def test_timeline_and_visits_are_listed(cast, login):
    case = register(cast["reception"]).case
    record_repeat_visit(
        actor=cast["reception"],
        case=case,
        petitioner=case.main_petitioner,
        channel=Channel.objects.get(code="phone"),
        notes="再次来电",
    )
    response = login(cast["triage"]).get(detail_url(case))
    html = response.content.decode()
    assert [e.kind for e in response.context["events"]] == ["registered", "repeat_visit"]
    assert "Repeat visit" in html and "再次来电" in html and "电话" in html
    assert len(response.context["visits"]) == 2


def test_history_shows_who_changed_which_field_and_when(cast, login):
    case = register(cast["reception"]).case
    tomorrow = timezone.localdate() + timedelta(days=1)
    moment = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 15, tzinfo=BEIJING)
    with time_machine.travel(moment, tick=False):
        record_repeat_visit(
            actor=cast["triage"], case=case, petitioner=case.main_petitioner, channel=case.channel
        )
    response = login(cast["supervisor"]).get(detail_url(case))
    newest = response.context["history"][0]
    assert newest.user == cast["triage"] and newest.at == moment
    assert [(c.label, c.old, c.new) for c in newest.changes] == [("Visits", 1, 2)]
    html = response.content.decode()
    assert f"{tomorrow:%Y-%m-%d} 09:15:00" in html and '<span class="who">triage</span>' in html
    assert response.context["history"][-1].user == cast["reception"]


def test_history_names_related_records_and_choice_labels(cast, login):
    case = register(cast["reception"]).case
    answer_on_spot(actor=cast["reception"], case=case, answer="已答复")
    newest = login(cast["supervisor"]).get(detail_url(case)).context["history"][0]
    changes = {c.label: (c.old, c.new) for c in newest.changes}
    assert changes["State"] == ("Registered, awaiting screening", "Closed")
    assert changes["Outcome"] == ("—", "已答复")
    assert newest.reason == "answer_on_spot"


def test_assignments_are_shown(cast, org, login):
    case = register(cast["reception"]).case
    assign(case, org.dept(org.city, DepartmentKind.POLICE), cast["triage"])
    response = login(cast["police"]).get(detail_url(case))
    assert response.status_code == 200 and len(response.context["assignments"]) == 1
    assert "市中心-police" in response.content.decode()


def test_case_page_query_count_does_not_grow_with_events(cast, login, django_assert_num_queries):
    reception = cast["reception"]
    few = register(reception).case
    many = register(reception).case

    def visits(case, n):
        for _ in range(n):
            record_repeat_visit(
                actor=reception, case=case, petitioner=case.main_petitioner, channel=case.channel
            )

    visits(few, 1)  # 2 events, 2 visits, 2 history rows
    visits(many, 14)  # 15 events, 15 visits, 15 history rows
    client = login(cast["triage"])
    client.get(detail_url(few))  # the process's caches warm (core.codecache, sessions)
    with CaptureQueriesContext(connection) as ctx:
        assert len(client.get(detail_url(few)).context["events"]) == 2
    with django_assert_num_queries(len(ctx.captured_queries)):
        response = client.get(detail_url(many))
    assert len(response.context["events"]) == 15 and len(response.context["history"]) == 15


# --- revealing personal numbers ------------------------------------------------------------------


def reveal_url(case, petitioner, field="id_number") -> str:
    return reverse("petitions:reveal_pii", args=[case.pk, petitioner.pk, field])


def test_reveal_returns_the_number_and_logs_it(cast, login):
    number = resident_id()
    petitioner = make_petitioner(cast["reception"], id_number=number, phone="13900001111")
    case = register(cast["reception"], petitioner).case
    client = login(cast["triage"])
    response = client.post(reveal_url(case, petitioner), HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json() == {"value": number}
    assert "no-store" in response["Cache-Control"]
    response = client.post(reveal_url(case, petitioner, "phone"), HTTP_ACCEPT="application/json")
    assert response.json() == {"value": "13900001111"}
    logs = list(
        PiiAccessLog.objects.order_by("id").values_list("user", "petitioner", "field", "ip")
    )
    assert logs == [
        (cast["triage"].pk, petitioner.pk, "id_number", "127.0.0.1"),
        (cast["triage"].pk, petitioner.pk, "phone", "127.0.0.1"),
    ]


def test_reveal_without_javascript_renders_the_page_with_the_number(cast, login):
    number = resident_id()
    petitioner = make_petitioner(cast["reception"], id_number=number)
    case = register(cast["reception"], petitioner).case
    response = login(cast["reception"]).post(reveal_url(case, petitioner), HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and number in response.content.decode()
    assert PiiAccessLog.objects.count() == 1


def test_reveal_is_refused_to_roles_without_need_and_not_logged(cast, login):
    petitioner = make_petitioner(cast["reception"])
    case = register(cast["reception"], petitioner).case
    for role in ("archivist", "leader"):
        response = login(cast[role]).post(
            reveal_url(case, petitioner), HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 403 and "value" not in response.json()
    html_response = login(cast["archivist"]).post(reveal_url(case, petitioner))
    assert html_response.status_code == 403
    assert PiiAccessLog.objects.count() == 0


def test_reveal_of_someone_not_on_a_visible_case_is_404_and_not_logged(cast, login):
    petitioner = make_petitioner(cast["reception"])
    case = register(cast["reception"], petitioner).case
    stranger = make_petitioner(cast["reception"], name="无关人员")
    register(cast["reception"], stranger)
    assert login(cast["county_reception"]).post(reveal_url(case, petitioner)).status_code == 404
    assert login(cast["triage"]).post(reveal_url(case, stranger)).status_code == 404
    assert login(cast["triage"]).post(reveal_url(case, petitioner, "address")).status_code == 404
    assert login(cast["triage"]).get(reveal_url(case, petitioner)).status_code == 405
    assert PiiAccessLog.objects.count() == 0


# --- attachments --------------------------------------------------------------------------------


def pdf(name="判决书.pdf", body=b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def test_attachment_is_added_from_the_case_page(cast, login, media):
    case = register(cast["reception"]).case
    response = login(cast["triage"]).post(
        reverse("petitions:attachment_add", args=[case.pk]),
        {"attachment-kind": "judgment", "attachment-file": pdf()},
        follow=True,
    )
    attachment = Attachment.objects.get(case=case)
    assert (attachment.kind, attachment.original_name, attachment.uploaded_by) == (
        "judgment",
        "判决书.pdf",
        cast["triage"],
    )
    assert case.events.filter(kind="attachment_added").exists()
    assert "Attachment added: 判决书.pdf" in response.content.decode()


def test_refused_attachment_is_shown_as_a_form_error(cast, login, media):
    case = register(cast["reception"]).case
    response = login(cast["triage"]).post(
        reverse("petitions:attachment_add", args=[case.pk]),
        {"attachment-kind": "other", "attachment-file": pdf("tool.pdf", b"MZ\x90\x00binary")},
    )
    assert response.status_code == 400
    assert "is an executable file" in " ".join(response.context["attachment_form"].errors["file"])
    assert not Attachment.objects.exists()


def test_attachment_from_a_read_only_center_is_refused_with_a_message(cast, login, media):
    county_case = register(cast["county_reception"]).case
    response = login(cast["triage"]).post(
        reverse("petitions:attachment_add", args=[county_case.pk]),
        {"attachment-kind": "other", "attachment-file": pdf()},
        follow=True,
    )
    assert "read-only" in response.content.decode() and not Attachment.objects.exists()


def test_attachment_download_is_scoped_to_the_case_and_its_viewers(cast, login, media):
    case = register(cast["reception"]).case
    other = register(cast["reception"]).case
    attachment = add_attachment(actor=cast["reception"], case=case, kind="evidence", upload=pdf())
    url = reverse("petitions:attachment_download", args=[case.pk, attachment.pk])
    response = login(cast["triage"]).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert login(cast["county_reception"]).get(url).status_code == 404
    assert login(cast["outsider"]).get(url).status_code == 404
    wrong_case = reverse("petitions:attachment_download", args=[other.pk, attachment.pk])
    assert login(cast["triage"]).get(wrong_case).status_code == 404


# --- template filters ---------------------------------------------------------------------------


def test_days_left_counts_beijing_calendar_days():
    due = datetime(2026, 3, 16, 23, 59, 59, tzinfo=BEIJING)
    with time_machine.travel(datetime(2026, 3, 13, 8, 0, tzinfo=BEIJING), tick=False):
        assert days_left(due) == "3 days left"
    with time_machine.travel(datetime(2026, 3, 15, 23, 0, tzinfo=BEIJING), tick=False):
        assert days_left(due) == "1 day left"
    with time_machine.travel(datetime(2026, 3, 16, 23, 0, tzinfo=BEIJING), tick=False):
        assert days_left(due) == "due today"
    with time_machine.travel(datetime(2026, 3, 17, 0, 30, tzinfo=BEIJING), tick=False):
        assert days_left(due) == "1 day overdue"
    with time_machine.travel(datetime(2026, 3, 18, 12, 0, tzinfo=BEIJING), tick=False):
        assert days_left(due) == "2 days overdue"
    assert days_left(None) == ""


def test_state_tag_tells_open_overdue_and_closed(cast):
    case = register(cast["reception"]).case
    assert state_tag(case) == "tag state-open"
    case.next_due_at = timezone.now() - timedelta(hours=1)
    assert state_tag(case) == "tag state-overdue"
    case.state = CaseState.CLOSED
    assert state_tag(case) == "tag state-closed"
    assert state_tag("archived") == "tag state-closed" and state_tag("handling") == "tag state-open"


def test_history_shows_names_for_changed_related_records(cast, org, login):
    case = register(cast["reception"]).case
    # Stands in for routing's transfer service (not in this app): a save with the acting user
    # writes the history row the case page reads.
    case.center = org.county_a
    case._history_user = cast["triage"]
    case.save(update_fields=["center"])
    newest = login(cast["supervisor"]).get(detail_url(case)).context["history"][0]
    assert [(c.label, str(c.old), str(c.new)) for c in newest.changes] == [
        ("Center", "市中心", "甲县中心")
    ]


def test_an_archived_case_offers_no_attachment_upload(cast, login):
    """Issue 17 §4 #5: the service refuses every write to an archived file
    (services.require_not_archived), so the page offers no upload and says why."""
    case = register(cast["reception"]).case
    client = login(cast["reception"])
    assert 'data-testid="attachment-form"' in client.get(f"/cases/{case.pk}/").content.decode()
    Case.objects.filter(pk=case.pk).update(state=CaseState.ARCHIVED)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="attachment-form"' not in html
    assert 'data-testid="archived-read-only"' in html
