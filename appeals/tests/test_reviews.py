"""Review (复查) and re-review (复核): windows, reviewing centers, decisions, guards (Arts 35-36)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from appeals import services
from appeals.models import Finality, FinalityReason, ReviewKind, ReviewRequest
from appeals.testing import delivered_case
from appeals.windows import RE_REVIEW_DECISION_KIND, REVIEW_DECISION_KIND, WINDOW_KIND
from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, Notification, WarningLevel
from clocks.sweep import run_deadline_checks
from core.errors import DomainError, IllegalTransition, PermissionDenied, StaleState
from petitions.models import Case
from petitions.services import registration_warnings
from petitions.states import CaseState

from .conftest import DELIVERED

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 10) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, 0, tzinfo=CHINA_TZ)


def ask(actor, case, kind=ReviewKind.REVIEW, when="2026-10-09", **kw) -> ReviewRequest:
    with time_machine.travel(at(when)):
        case.refresh_from_db()
        return services.request_review(
            actor=actor, case=case, kind=kind, reason="对处理意见不服，请求复查。", **kw
        )


def decide(actor, case, decision="uphold", when="2026-10-20"):
    with time_machine.travel(at(when)):
        case.refresh_from_db()
        return services.decide_review(
            actor=actor, case=case, decision=decision, answer="经复查，原处理意见正确，予以维持。"
        )


def unchanged(case: Case, version: int, state: str = CaseState.REPLIED) -> None:
    case.refresh_from_db()
    assert (case.state, case.version) == (state, version)


# --- the request ------------------------------------------------------------------------------


def test_a_county_reply_is_reviewed_by_the_city_with_its_own_30_day_clock(
    county_case, county, city
):
    request = ask(county.reception, county_case)
    county_case.refresh_from_db()
    assert county_case.state == CaseState.REVIEW
    assert request.reviewing_center == city.center
    assert request.reply is not None and request.reply.case_id == county_case.pk
    clock = Deadline.objects.get(case=county_case, kind=REVIEW_DECISION_KIND, met_at__isnull=True)
    # requested 9 Oct: 30 calendar days, due at the end of 8 Nov (Beijing)
    assert clock.due_at == datetime(2026, 11, 8, 23, 59, 59, tzinfo=CHINA_TZ)
    assert request.decision_due_at == clock.due_at
    # the petitioner's window is used up: it closes
    assert not Deadline.objects.filter(
        case=county_case, kind=WINDOW_KIND, met_at__isnull=True
    ).exists()
    # the reviewing center's supervisors hear of it
    assert Notification.objects.filter(
        case=county_case, audience_center=city.center, audience_role="supervisor"
    ).exists()


def test_the_reviewing_center_desk_may_record_the_request_too(county_case, city):
    request = ask(city.reception, county_case)
    assert request.recorded_by == city.reception


def test_a_sibling_county_desk_may_not_record_it(county_case, org):
    from appeals.testing import staff_for

    other = staff_for(org.county_b)
    version = county_case.version
    with pytest.raises(PermissionDenied):
        ask(other.reception, county_case)
    unchanged(county_case, version)


def test_day_30_across_the_national_day_holiday_is_in_time(county_case, county):
    # delivered 20 Sep; the window counts calendar days through the 1-8 Oct holiday: 20 Oct is day 30
    request = ask(county.reception, county_case, when="2026-10-20")
    assert request.window_due_at == datetime(2026, 10, 20, 23, 59, 59, tzinfo=CHINA_TZ)


def test_day_31_is_refused_with_the_dates_and_nothing_changes(county_case, county):
    version = county_case.version
    with pytest.raises(DomainError) as exc:
        ask(county.reception, county_case, when="2026-10-21")
    assert exc.value.code == "window_closed"
    assert "2026-09-20" in str(exc.value) and "2026-10-20" in str(exc.value)
    unchanged(county_case, version)
    assert not ReviewRequest.objects.exists()


def test_a_re_review_before_any_review_is_refused(county_case, county):
    version = county_case.version
    with pytest.raises(DomainError) as exc:
        ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW)
    assert exc.value.code == "no_review"
    unchanged(county_case, version)


def test_a_re_review_while_the_review_is_pending_is_refused(county_case, county):
    ask(county.reception, county_case)
    county_case.refresh_from_db()
    with pytest.raises(IllegalTransition):
        ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW)


def test_a_second_review_of_the_same_reply_is_refused(county_case, county, city):
    ask(county.reception, county_case)
    decide(city.supervisor, county_case)
    version = Case.objects.get(pk=county_case.pk).version
    with pytest.raises(DomainError) as exc:
        ask(county.reception, county_case, when="2026-10-22")
    assert exc.value.code == "already_reviewed"
    unchanged(county_case, version)
    assert ReviewRequest.objects.count() == 1


def test_no_review_without_a_delivered_reply(county):
    from petitions.testing import register

    case = register(county.reception).case
    with pytest.raises(DomainError) as exc:
        services.request_review(
            actor=county.reception, case=case, kind=ReviewKind.REVIEW, reason="不服"
        )
    assert exc.value.code == "no_delivered_reply"
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED


def test_a_reason_and_a_known_kind_are_required(county_case, county):
    with pytest.raises(ValidationError) as exc:
        services.request_review(actor=county.reception, case=county_case, kind="review", reason=" ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.request_review(actor=county.reception, case=county_case, kind="appeal", reason="x")
    assert "kind" in exc.value.message_dict


def test_a_double_submit_records_one_request(county_case, county):
    first = ask(county.reception, county_case, submission_key="k-1")
    second = ask(county.reception, county_case, submission_key="k-1")
    assert first.pk == second.pk
    assert ReviewRequest.objects.count() == 1


def test_a_stale_version_is_refused(county_case, county):
    with pytest.raises(StaleState):
        ask(county.reception, county_case, expected_version=county_case.version - 1)


def test_only_desk_roles_record_a_request(county_case, county):
    with pytest.raises(PermissionDenied):
        ask(county.officer, county_case)


# --- the decision ------------------------------------------------------------------------------


def test_the_city_decides_and_the_re_review_window_opens(county_case, county, city):
    ask(county.reception, county_case)
    request = decide(city.supervisor, county_case, decision="change")
    county_case.refresh_from_db()
    assert county_case.state == CaseState.REPLIED
    assert request.decision == "change" and request.decided_by == city.supervisor
    assert request.document_number and request.delivered_at == request.decided_at
    assert Deadline.objects.get(case=county_case, kind=REVIEW_DECISION_KIND).met_at is not None
    window = Deadline.objects.get(case=county_case, kind=WINDOW_KIND, met_at__isnull=True)
    assert window.due_at == datetime(2026, 11, 19, 23, 59, 59, tzinfo=CHINA_TZ)


@pytest.mark.parametrize("who", ["county_supervisor", "province_supervisor", "city_head"])
def test_only_the_reviewing_center_decides(county_case, county, city, province, who):
    actor = {
        "county_supervisor": county.supervisor,
        "province_supervisor": province.supervisor,
        "city_head": city.head,
    }[who]
    ask(county.reception, county_case)
    version = Case.objects.get(pk=county_case.pk).version
    with pytest.raises(PermissionDenied):
        decide(actor, county_case)
    unchanged(county_case, version, CaseState.REVIEW)


def test_a_decision_needs_a_known_decision_and_an_answer(county_case, county, city):
    ask(county.reception, county_case)
    with pytest.raises(ValidationError):
        services.decide_review(
            actor=city.supervisor, case=county_case, decision="maybe", answer="x"
        )
    with pytest.raises(ValidationError):
        services.decide_review(
            actor=city.supervisor, case=county_case, decision="uphold", answer=""
        )


def test_re_review_goes_to_the_province_and_makes_the_matter_final(
    county_case, county, city, province
):
    ask(county.reception, county_case)
    review = decide(city.supervisor, county_case)
    re_review = ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW, when="2026-11-01")
    assert re_review.reviewing_center == province.center
    assert re_review.previous == review
    clock = Deadline.objects.get(
        case=county_case, kind=RE_REVIEW_DECISION_KIND, met_at__isnull=True
    )
    assert clock.due_at == datetime(2026, 12, 1, 23, 59, 59, tzinfo=CHINA_TZ)
    decide(province.leader, county_case, when="2026-11-20")
    county_case.refresh_from_db()
    assert county_case.state == CaseState.CLOSED
    finality = Finality.objects.get(case=county_case)
    assert finality.reason == FinalityReason.RE_REVIEW_DECIDED
    # a second re-review of the same review is refused
    with pytest.raises((DomainError, IllegalTransition)):
        ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW, when="2026-11-21")
    # the desk flags the same person's return
    warnings = registration_warnings(county_case.main_petitioner)
    assert any(county_case.number in w for w in warnings)


def test_the_re_review_window_is_counted_from_the_review_answer(county_case, county, city):
    ask(county.reception, county_case)
    decide(city.supervisor, county_case, when="2026-10-20")
    # answer issued 20 Oct: the last day is 19 Nov
    ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW, when="2026-11-19")


def test_a_re_review_on_day_31_after_the_review_answer_is_refused(county_case, county, city):
    ask(county.reception, county_case)
    decide(city.supervisor, county_case, when="2026-10-20")
    with pytest.raises(DomainError) as exc:
        ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW, when="2026-11-20")
    assert exc.value.code == "window_closed"


def test_a_province_reply_is_reviewed_at_the_province_and_re_reviewed_above_it(province):
    case = delivered_case(province, delivered_at=DELIVERED)
    request = ask(province.reception, case)
    assert request.reviewing_center == province.center
    decide(province.supervisor, case)
    # Art 36: not back to the province that reviewed, but one level above it, forwarded
    re_review = ask(province.reception, case, kind=ReviewKind.RE_REVIEW, when="2026-10-25")
    assert re_review.reviewing_center == province.center and re_review.forwarded_upward
    for actor in (province.supervisor, province.leader):
        with pytest.raises(DomainError):
            decide(actor, case, when="2026-10-26")


def test_an_archived_case_takes_no_review(county_case, county):
    Case.objects.filter(pk=county_case.pk).update(state=CaseState.ARCHIVED)
    county_case.refresh_from_db()
    with pytest.raises(IllegalTransition):
        ask(county.reception, county_case)
    assert not ReviewRequest.objects.exists()


# --- clocks: the decision is supervised; the window closes ---------------------------------------


def test_the_decision_clock_is_swept_like_every_other_duty(county_case, county):
    ask(county.reception, county_case)
    with time_machine.travel(at("2026-11-10")):
        run_deadline_checks()
    clock = Deadline.objects.get(case=county_case, kind=REVIEW_DECISION_KIND)
    assert clock.warning_level == WarningLevel.OVERDUE


def test_a_lapsed_window_makes_the_matter_final_once(county_case, county):
    from appeals.tasks import finalise_lapsed_windows

    with time_machine.travel(at("2026-10-20", 23)):
        assert finalise_lapsed_windows() == 0
    with time_machine.travel(at("2026-10-21", 0) + timedelta(minutes=1)):
        assert finalise_lapsed_windows() == 1
        assert finalise_lapsed_windows() == 0
    finality = Finality.objects.get(case=county_case)
    assert finality.reason == FinalityReason.REVIEW_WINDOW_LAPSED
    window = Deadline.objects.get(case=county_case, kind=WINDOW_KIND)
    assert window.met_at == window.due_at
    assert county_case.events.filter(kind="review_window_lapsed").count() == 1
    with pytest.raises(DomainError) as exc:
        ask(county.reception, county_case, when="2026-10-22")
    assert exc.value.code == "final"
    assert any(county_case.number in w for w in registration_warnings(county_case.main_petitioner))


def test_a_lapsed_re_review_window_is_named_as_such(county_case, county, city):
    from appeals.tasks import finalise_lapsed_windows

    ask(county.reception, county_case)
    decide(city.supervisor, county_case, when="2026-10-20")
    with time_machine.travel(at("2026-11-21")):
        assert finalise_lapsed_windows() == 1
    assert Finality.objects.get(case=county_case).reason == FinalityReason.RE_REVIEW_WINDOW_LAPSED


def test_the_reviewing_center_hears_when_its_decision_is_overdue(county_case, county, city):
    from appeals.tasks import tell_reviewing_centers

    ask(county.reception, county_case)
    with time_machine.travel(at("2026-11-10")):
        run_deadline_checks()
        assert tell_reviewing_centers() == 1
        assert tell_reviewing_centers() == 0
    note = Notification.objects.get(case=county_case, dedupe_key__startswith="appeals:")
    assert (note.audience_center, note.audience_role, note.kind) == (
        city.center,
        "supervisor",
        "overdue",
    )


def test_finalising_a_lapsed_window_never_makes_another_window_the_next_deadline(
    county_case, county
):
    """Issue 12 #4: a window is never the case's nearest deadline, also when the task that closes
    lapsed review windows recomputes it (another window still running on the case)."""
    from appeals.tasks import finalise_lapsed_windows
    from clocks.deadlines import open_deadline
    from clocks.models import DeadlineKind

    objection = open_deadline(
        case=county_case, kind=DeadlineKind.OBJECTION, start=at("2026-10-20", 9)
    )
    with time_machine.travel(at("2026-10-21", 0) + timedelta(minutes=1)):
        assert finalise_lapsed_windows() == 1
    objection.refresh_from_db()
    assert objection.met_at is None  # still running
    county_case.refresh_from_db()
    duties_open = Deadline.objects.duties().filter(case=county_case, met_at__isnull=True)
    expected = duties_open.order_by("due_at").values_list("due_at", flat=True).first()
    assert county_case.next_due_at == expected
    assert county_case.next_due_at != objection.due_at


# --- issue 18 #2: re-review one level above the reviewing center (Art 36) ------------------------


def _city_case_reviewed_at_the_province(city, province):
    case = delivered_case(city, delivered_at=DELIVERED)
    review = ask(city.reception, case)
    assert review.reviewing_center == province.center
    decide(province.supervisor, case, when="2026-10-12")
    return case


def test_a_re_review_never_goes_back_to_the_center_that_reviewed(city, province):
    """A city reply reviewed at the province: the province is the top of the deployment, so the
    re-review goes to the organ above it, forwarded upward, not back to the province."""
    case = _city_case_reviewed_at_the_province(city, province)
    re_review = ask(city.reception, case, kind=ReviewKind.RE_REVIEW, when="2026-10-20")
    assert re_review.forwarded_upward and re_review.forwarded_to == services.organ_above()
    assert re_review.reviewing_center == province.center  # follows it up, records the outcome
    case.refresh_from_db()
    assert case.state == CaseState.RE_REVIEW
    event = case.events.get(kind="re_review_forwarded")
    assert re_review.forwarded_to in event.message
    # not the province's to decide, by anyone
    for actor in (province.supervisor, province.leader):
        with pytest.raises(DomainError) as exc:
            decide(actor, case, when="2026-10-25")
        assert exc.value.code == "forwarded"
    assert not ReviewRequest.objects.get(pk=re_review.pk).decision


def test_the_outcome_received_from_above_is_recorded_and_makes_the_matter_final(city, province):
    case = _city_case_reviewed_at_the_province(city, province)
    ask(city.reception, case, kind=ReviewKind.RE_REVIEW, when="2026-10-20")

    def record(actor, when="2026-11-10", **kw):
        kw.setdefault("outcome_date", datetime(2026, 11, 5).date())
        kw.setdefault("document_number", "中政复〔2026〕12号")
        with time_machine.travel(at(when)):
            case.refresh_from_db()
            return services.record_forwarded_outcome(
                actor=actor, case=case, decision="uphold", answer="维持复查意见。", **kw
            )

    with pytest.raises(ValidationError) as exc:
        record(province.supervisor, document_number=" ", outcome_date=None)
    assert {"document_number", "outcome_date"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        record(province.supervisor, outcome_date=datetime(2026, 12, 1).date())  # the future
    with pytest.raises(PermissionDenied):
        record(city.supervisor)
    # the supervisor who decided the review may record what the organ above decided
    request = record(province.supervisor)
    assert request.decision == "uphold" and request.document_number == "中政复〔2026〕12号"
    assert str(request.outcome_date) == "2026-11-05" and request.decided_by == province.supervisor
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert Finality.objects.get(case=case).reason == FinalityReason.RE_REVIEW_DECIDED
    assert Deadline.objects.get(case=case, kind=RE_REVIEW_DECISION_KIND).met_at is not None


def test_a_county_case_is_re_reviewed_at_the_province_not_forwarded(county_case, county, city):
    ask(county.reception, county_case)
    decide(city.supervisor, county_case)
    re_review = ask(county.reception, county_case, kind=ReviewKind.RE_REVIEW, when="2026-11-01")
    assert re_review.reviewing_center.parent_id is None and not re_review.forwarded_upward
    with pytest.raises(DomainError) as exc:
        services.record_forwarded_outcome(
            actor=city.supervisor,
            case=county_case,
            decision="uphold",
            answer="x",
            outcome_date=datetime(2026, 11, 1).date(),
            document_number="x-1",
        )
    assert exc.value.code == "not_forwarded"


def test_the_review_answer_names_the_organ_that_re_reviews(county_case, county, city, province):
    from appeals.document import answer_document

    ask(county.reception, county_case)
    review = decide(city.supervisor, county_case)
    text = answer_document(review).body
    assert f"向{province.center.name}请求复核" in text and "本机关请求复核" not in text
    case = _city_case_reviewed_at_the_province(city, province)
    text = answer_document(ReviewRequest.objects.get(case=case, kind=ReviewKind.REVIEW)).body
    above = services.organ_above()
    assert f"向{above}请求复核" in text and f"转报{above}" in text
    assert "向本机关请求复核" not in text
