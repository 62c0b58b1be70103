"""closure.services: every step, window and guard, with time moved by time_machine."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clocks.models import Deadline, DeadlineKind
from closure import services
from closure.models import (
    CaseClosure,
    Evaluation,
    EvaluationLink,
    Reply,
    ReplyStatus,
    ReturnVisit,
)
from closure.selectors import EvaluationStatus, evaluation_for, evaluation_status
from closure.testing import DEFAULT_REPLY, bring_to_handling, bring_to_replied
from closure.tokens import hash_token, token_for
from core.errors import DomainError, PermissionDenied, StaleState
from petitions.models import Case, CaseEvent
from petitions.services import add_attachment, record_repeat_visit
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole, AssignmentState
from routing.services import add_progress_note

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")

SATISFIED = services.Verdict("satisfied", "basically_satisfied")
DISSATISFIED = services.Verdict("dissatisfied", "dissatisfied", "问题没有解决")


def handling(cast, **kw):
    return bring_to_handling(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        assisting_officers=(cast["court"],),
        **kw,
    )


def replied(cast, **kw):
    return bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
        assisting_officers=(cast["court"],),
        **kw,
    )


def draft(cast, case, **kw):
    return services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, **kw)


# --- the written reply ---------------------------------------------------------------------------


def test_reply_without_legal_basis_is_refused_and_nothing_saved(cast):
    case = handling(cast)
    version = case.version
    text = services.ReplyText(decision="support", facts_reasons="事实", legal_basis="  ")
    with pytest.raises(ValidationError) as exc:
        services.save_reply_draft(actor=cast["police"], case=case, text=text)
    assert "legal_basis" in exc.value.message_dict
    case.refresh_from_db()
    assert case.version == version and not Reply.objects.filter(case=case).exists()


def test_draft_merges_assisting_contributions_and_the_review_route(cast):
    case = handling(cast)
    reply = draft(cast, case)
    assert reply.status == ReplyStatus.DRAFT
    assert cast["court"].department.name in reply.contributions
    assert "三十日内" in reply.review_route and reply.request_summary == case.request
    assert case.events.filter(kind="reply_drafted", actor=cast["police"]).exists()


def test_only_the_lead_department_drafts(cast):
    case = handling(cast)
    for who in ("court", "justice", "supervisor"):
        with pytest.raises(PermissionDenied):
            services.save_reply_draft(actor=cast[who], case=case, text=DEFAULT_REPLY)


def test_officer_cannot_approve_own_draft(cast):
    case = handling(cast)
    draft(cast, case, submit=True)
    with pytest.raises(PermissionDenied, match="own draft|自己"):
        services.approve_reply(actor=cast["police"], case=case)
    reply = Reply.objects.get(case=case)
    assert reply.status == ReplyStatus.SUBMITTED and reply.document_number is None


def test_head_cannot_approve_a_draft_they_wrote(cast):
    case = handling(cast)
    services.save_reply_draft(actor=cast["head"], case=case, text=DEFAULT_REPLY)
    with pytest.raises(PermissionDenied):
        services.approve_reply(actor=cast["head"], case=case)


def test_approval_numbers_the_reply_and_creates_a_hashed_one_time_link(cast):
    case = handling(cast)
    draft(cast, case, submit=True)
    reply = services.approve_reply(actor=cast["head"], case=case)
    assert reply.status == ReplyStatus.APPROVED and reply.approved_by == cast["head"]
    assert reply.document_number.startswith(case.center.region_code)
    link = EvaluationLink.objects.get(reply=reply)
    token = token_for(link.salt)
    assert link.token_hash == hash_token(token) and token not in (link.token_hash, link.salt)
    with pytest.raises(DomainError):  # approved: approving again is refused
        services.approve_reply(actor=cast["head"], case=case)
    with pytest.raises(DomainError):  # and the text is frozen
        draft(cast, case)


def test_send_back_needs_a_reason_and_returns_the_draft(cast):
    case = handling(cast)
    draft(cast, case, submit=True)
    with pytest.raises(ValidationError):
        services.send_back_reply(actor=cast["head"], case=case, reason=" ")
    reply = services.send_back_reply(actor=cast["head"], case=case, reason="法律依据不全")
    assert reply.status == ReplyStatus.DRAFT and reply.sent_back_reason == "法律依据不全"
    with pytest.raises(PermissionDenied):
        services.send_back_reply(actor=cast["police"], case=case, reason="x")


def test_stale_version_is_refused(cast):
    case = handling(cast)
    old = case.version
    draft(cast, case)
    with pytest.raises(StaleState):
        services.save_reply_draft(
            actor=cast["police"], case=case, text=DEFAULT_REPLY, expected_version=old
        )


def test_delivery_needs_an_approved_reply(cast):
    case = handling(cast)
    draft(cast, case, submit=True)
    with pytest.raises(DomainError):
        services.deliver_reply(actor=cast["police"], case=case, method="post", signed=True)
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING


def test_delivery_replies_stops_handling_and_opens_the_30_day_review_window(cast):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING), tick=False):
        r = replied(cast)
    case = r.case
    assert case.state == CaseState.REPLIED
    handling_clock = Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING)
    assert handling_clock.met_at is not None
    window = Deadline.objects.get(case=case, kind=services.REVIEW_WINDOW_KIND, met_at=None)
    # 30 calendar days, the day of delivery not counted, due at the end of the last day
    assert window.due_at.astimezone(BEIJING).date() == date(2026, 4, 1)
    assert r.reply.delivery_method == "in_person" and r.reply.signed is True
    link = EvaluationLink.objects.get(reply=r.reply)
    assert link.expires_at == r.reply.delivered_at + timedelta(days=30)
    assert case.events.filter(kind="reply", to_state=CaseState.REPLIED).exists()


def test_delivery_date_in_the_future_is_refused(cast):
    case = handling(cast)
    draft(cast, case, submit=True)
    services.approve_reply(actor=cast["head"], case=case)
    with pytest.raises(ValidationError):
        services.deliver_reply(
            actor=cast["police"],
            case=case,
            method="post",
            signed=False,
            delivered_at=timezone.now() + timedelta(days=2),
        )


# --- evaluation ----------------------------------------------------------------------------------


def test_link_evaluates_once(cast):
    r = replied(cast)
    evaluation = services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=SATISFIED)
    assert evaluation.channel == "link" and evaluation.recorded_by is None
    with pytest.raises(DomainError) as exc:
        services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=SATISFIED)
    assert exc.value.code == "already_evaluated"
    assert Evaluation.objects.filter(case=r.case).count() == 1


def test_link_of_another_case_is_refused(cast):
    first = replied(cast)
    second = replied(cast)
    with pytest.raises(DomainError) as exc:
        services.evaluate_by_link(case_id=second.case.pk, token=first.token, verdict=SATISFIED)
    assert exc.value.code == "link_invalid"
    with pytest.raises(DomainError):
        services.evaluate_by_link(case_id=first.case.pk, token="made-up", verdict=SATISFIED)
    assert not Evaluation.objects.exists()


def test_link_expires_with_the_evaluation_window(cast, settings):
    settings.EVALUATION_WINDOW_DAYS = 10
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING), tick=False):
        r = replied(cast)
    with time_machine.travel(datetime(2026, 3, 12, 9, 0, tzinfo=BEIJING), tick=False):
        assert evaluation_status(r.case) == EvaluationStatus.OPEN
    with time_machine.travel(datetime(2026, 3, 12, 11, 0, tzinfo=BEIJING), tick=False):
        with pytest.raises(DomainError) as exc:
            services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=SATISFIED)
        assert exc.value.code == "link_expired"
        assert evaluation_status(r.case) == EvaluationStatus.NOT_EVALUATED
        with pytest.raises(DomainError) as exc:
            services.record_evaluation(
                actor=cast["reception"], case=r.case, verdict=SATISFIED, channel="desk"
            )
        assert exc.value.code == "evaluation_closed"
    assert not Evaluation.objects.exists()


def test_link_does_not_work_before_delivery(cast):
    case = handling(cast)
    draft(cast, case, submit=True)
    reply = services.approve_reply(actor=cast["head"], case=case)
    token = token_for(EvaluationLink.objects.get(reply=reply).salt)
    with pytest.raises(DomainError) as exc:
        services.evaluate_by_link(case_id=case.pk, token=token, verdict=SATISFIED)
    assert exc.value.code == "link_not_open"


def test_dissatisfied_needs_reasons(cast):
    r = replied(cast)
    with pytest.raises(ValidationError) as exc:
        services.evaluate_by_link(
            case_id=r.case.pk,
            token=r.token,
            verdict=services.Verdict("satisfied", "dissatisfied", ""),
        )
    assert "reasons" in exc.value.message_dict
    assert EvaluationLink.objects.get(reply=r.reply).used_at is None


def test_dissatisfied_creates_a_return_visit_for_the_lead_after_five_working_days(cast):
    # 30 Sep 2025 is the last working day before the National Day holiday (1-8 Oct); 11 Oct, a
    # Saturday, is a make-up working day: 9, 10, 11, 13, 14 Oct.
    with time_machine.travel(datetime(2025, 9, 30, 10, 0, tzinfo=BEIJING), tick=False):
        r = replied(cast)
        services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    visit = ReturnVisit.objects.get(case=r.case)
    assert visit.department == cast["police"].department and visit.reason == "dissatisfied"
    assert visit.scheduled_for == date(2025, 10, 14)


def test_desk_evaluation_is_recorded_on_the_petitioners_behalf_by_center_staff(cast):
    r = replied(cast)
    with pytest.raises(PermissionDenied):
        services.record_evaluation(
            actor=cast["police"], case=r.case, verdict=SATISFIED, channel="desk"
        )
    evaluation = services.record_evaluation(
        actor=cast["reception"], case=r.case, verdict=SATISFIED, channel="phone", given_by="其子"
    )
    assert evaluation.recorded_by == cast["reception"] and evaluation.given_by == "其子"
    # the printed link can no longer be used, and a second desk evaluation is refused
    assert EvaluationLink.objects.get(reply=r.reply).used_at is not None
    with pytest.raises(DomainError):
        services.record_evaluation(
            actor=cast["reception"], case=r.case, verdict=DISSATISFIED, channel="desk"
        )
    assert evaluation_for(r.case) == evaluation


# --- return visits --------------------------------------------------------------------------------


def test_return_visit_recorded_with_a_new_verdict_counts_for_archiving(cast):
    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    visit = services.record_return_visit(
        actor=cast["supervisor"],  # the center records a new verdict (issue 18 #9)
        case=r.case,
        record=services.VisitRecord(
            method="home",
            outcome="当面解释，信访人表示理解",
            visitors="张警官",
            new_verdict=services.Verdict("basically_satisfied", "basically_satisfied"),
        ),
    )
    assert visit.done_at is not None and visit.reason == "dissatisfied"  # the open task
    assert evaluation_for(r.case).center_rating == "basically_satisfied"
    services.close_case(actor=cast["supervisor"], case=r.case)
    closure = services.archive_case(actor=cast["archivist"], case=r.case)
    assert closure.archive_number and closure.archive_override_reason == ""


def test_return_visit_needs_method_and_outcome_and_the_lead_department(cast):
    r = replied(cast)
    with pytest.raises(ValidationError):
        services.record_return_visit(
            actor=cast["police"], case=r.case, record=services.VisitRecord(method="x", outcome="")
        )
    with pytest.raises(PermissionDenied):
        services.record_return_visit(
            actor=cast["justice"],
            case=r.case,
            record=services.VisitRecord(method="phone", outcome="ok"),
        )
    with pytest.raises(ValidationError):
        services.schedule_return_visit(
            actor=cast["police"], case=r.case, scheduled_for=date(2000, 1, 1)
        )


# --- closure and archive --------------------------------------------------------------------------


def test_closing_while_an_assisting_part_is_open_is_refused(cast):
    case = bring_to_handling(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        assisting_officers=(cast["court"],),
        contribute=False,
    )
    draft(cast, case, submit=True)
    services.approve_reply(actor=cast["head"], case=case)
    services.deliver_reply(actor=cast["police"], case=case, method="in_person", signed=True)
    with pytest.raises(DomainError) as exc:
        services.close_case(actor=cast["supervisor"], case=case)
    assert exc.value.code == "assisting_open"
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED
    court = Assignment.objects.get(case=case, role=AssignmentRole.ASSIST)
    from routing.services import submit_contribution

    submit_contribution(actor=cast["court"], assignment=court, text="已核实")
    services.close_case(actor=cast["supervisor"], case=case, note="办结")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    assert lead.state == AssignmentState.DONE


def test_archiving_a_dissatisfied_case_needs_a_supervisors_override(cast):
    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    services.close_case(actor=cast["supervisor"], case=r.case)
    with pytest.raises(DomainError) as exc:
        services.archive_case(actor=cast["archivist"], case=r.case)
    assert exc.value.code == "evaluation_required"
    with pytest.raises(PermissionDenied):
        services.archive_case(actor=cast["archivist"], case=r.case, override_reason="已终结")
    r.case.refresh_from_db()
    assert r.case.state == CaseState.CLOSED
    assert not CaseClosure.objects.filter(case=r.case, archive_number__isnull=False).exists()
    closure = services.archive_case(
        actor=cast["supervisor"], case=r.case, override_reason="经复查维持，多次回访，诉求无理"
    )
    assert closure.archive_override_reason and closure.archived_by == cast["supervisor"]
    assert not Deadline.objects.filter(case=r.case, met_at__isnull=True).exists()


def test_archiving_a_case_never_evaluated_needs_the_override_too(cast, settings):
    settings.EVALUATION_WINDOW_DAYS = 5
    r = replied(cast)
    services.close_case(actor=cast["supervisor"], case=r.case)
    with pytest.raises(DomainError):
        services.archive_case(actor=cast["archivist"], case=r.case)


def test_archive_numbers_are_unique_and_sequential(cast):
    numbers = []
    for _ in range(2):
        r = replied(cast)
        services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=SATISFIED)
        services.close_case(actor=cast["archivist"], case=r.case)
        numbers.append(services.archive_case(actor=cast["archivist"], case=r.case).archive_number)
    assert numbers[0] != numbers[1] and numbers[0][-5:] == "00001" and numbers[1][-5:] == "00002"


@pytest.fixture
def archived(cast):
    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=SATISFIED)
    services.close_case(actor=cast["supervisor"], case=r.case)
    services.archive_case(actor=cast["archivist"], case=r.case)
    r.case.refresh_from_db()
    return r


def test_an_archived_case_refuses_every_write(cast, archived):
    case = archived.case
    assert case.state == CaseState.ARCHIVED
    events = CaseEvent.objects.filter(case=case).count()
    attempts = [
        lambda: services.record_evaluation(
            actor=cast["reception"], case=case, verdict=SATISFIED, channel="desk"
        ),
        lambda: services.schedule_return_visit(
            actor=cast["police"], case=case, scheduled_for=timezone.localdate()
        ),
        lambda: services.record_reexamination(
            actor=cast["supervisor"], case=case, outcome="right_upheld"
        ),
        lambda: services.close_case(actor=cast["supervisor"], case=case),
        lambda: add_progress_note(actor=cast["police"], case=case, text="补充"),
        lambda: add_attachment(
            actor=cast["police"],
            case=case,
            kind="other",
            upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", content_type="application/pdf"),
        ),
        lambda: record_repeat_visit(
            actor=cast["reception"],
            case=case,
            petitioner=case.main_petitioner,
            channel=case.channel,
        ),
        lambda: services.evaluate_by_link(case_id=case.pk, token=archived.token, verdict=SATISFIED),
    ]
    for attempt in attempts:
        with pytest.raises((DomainError, PermissionDenied)):
            attempt()
    assert CaseEvent.objects.filter(case=case).count() == events
    case.refresh_from_db()
    assert case.state == CaseState.ARCHIVED


def test_supervisor_reopens_an_archived_case_with_a_reason(cast, archived):
    case = archived.case
    with pytest.raises(PermissionDenied):
        services.reopen_case(actor=cast["archivist"], case=case, reason="x")
    with pytest.raises(ValidationError):
        services.reopen_case(actor=cast["supervisor"], case=case, reason="")
    closure = services.reopen_case(actor=cast["supervisor"], case=case, reason="发现新证据")
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING and closure.reopen_reason == "发现新证据"
    assert closure.archive_number  # the file keeps its number
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    assert lead.state == AssignmentState.ACCEPTED
    assert Deadline.objects.filter(case=case, kind=DeadlineKind.HANDLING, met_at=None).exists()
    # a new reply supersedes the delivered one
    new = draft(cast, case)
    assert new.pk != archived.reply.pk
    assert Reply.objects.get(pk=archived.reply.pk).superseded_at is not None


def test_mediation_agreement_closes_the_case_with_the_agreement_attached(cast):
    case = handling(cast)
    upload = SimpleUploadedFile(
        "调解协议书.pdf", b"%PDF-1.4 agreement", content_type="application/pdf"
    )
    with pytest.raises(PermissionDenied):
        services.close_by_agreement(
            actor=cast["police"], case=case, kind="mediation", agreement=upload
        )
    reply = services.close_by_agreement(
        actor=cast["head"], case=case, kind="mediation", agreement=upload, note="双方达成和解"
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert reply.mediated and reply.agreement.original_name == "调解协议书.pdf"
    # the agreement stands for the petitioner's consent: the archivist archives without override
    services.archive_case(actor=cast["archivist"], case=case)


def test_reexamination_outcome_and_corrections(cast):
    r = replied(cast)
    with pytest.raises(ValidationError):
        services.record_reexamination(
            actor=cast["supervisor"], case=r.case, outcome="wholly_wrong_corrected"
        )
    with pytest.raises(ValidationError):
        services.record_reexamination(
            actor=cast["supervisor"],
            case=r.case,
            outcome="right_upheld",
            corrections=["compensation_paid"],
        )
    with pytest.raises(PermissionDenied):
        services.record_reexamination(actor=cast["reception"], case=r.case, outcome="right_upheld")
    closure = services.record_reexamination(
        actor=cast["supervisor"],
        case=r.case,
        outcome="partly_wrong_partly_corrected",
        corrections=["decision_revoked", "compensation_paid"],
        note="撤销原处罚决定，赔偿2000元",
    )
    assert closure.corrections == ["decision_revoked", "compensation_paid"]
    assert r.case.events.filter(kind="reexamination").exists()


def test_case_state_is_unchanged_by_refused_steps(cast):
    case = handling(cast)
    before = Case.objects.get(pk=case.pk).version
    with pytest.raises(DomainError):
        services.close_case(actor=cast["supervisor"], case=case)
    assert Case.objects.get(pk=case.pk).version == before


def test_double_submitted_return_visits_are_one(cast):
    r = replied(cast)
    day = timezone.localdate() + timedelta(days=3)
    first = services.schedule_return_visit(actor=cast["police"], case=r.case, scheduled_for=day)
    second = services.schedule_return_visit(actor=cast["police"], case=r.case, scheduled_for=day)
    assert first.pk == second.pk
    record = services.VisitRecord(method="phone", outcome="电话回访")
    done = services.record_return_visit(actor=cast["police"], case=r.case, record=record)
    again = services.record_return_visit(actor=cast["police"], case=r.case, record=record)
    assert done.pk == again.pk and ReturnVisit.objects.filter(case=r.case).count() == 1
