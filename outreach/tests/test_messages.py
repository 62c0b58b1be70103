"""Messages to the petitioner (issue 20 §5): each trigger queues one message with its masked
text, secrets only in the encrypted text, opt-out and no number, after commit only, the sender
(file backend, backoff, timeline events, logs without the number, constant queries), the HTTP
gateway against a local server, the API and the case page, the template admin."""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind
from closure.testing import bring_to_replied
from core import pii
from outreach.admin_messages import MessageTemplateForm
from outreach.models import Message, MessageKind, MessageState, MessageTemplate
from outreach.services import messages as svc
from outreach.sms import BaseSmsBackend, SmsError
from outreach.sms.filebased import FileBackend, file_name
from outreach.sms.http import HttpGatewayBackend
from petitions.models import CaseEvent
from petitions.testing import make_petitioner, register
from routing.models import Assignment, AssignmentRole

PHONE = "13812345678"
PHONE_MASKED = "138****5678"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)  # a Monday


@pytest.fixture
def sms_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SMS_BACKEND = "outreach.sms.filebased.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def messages_of(case: Any, kind: str | None = None) -> list[Message]:
    qs = Message.objects.filter(case=case).order_by("pk")
    return list(qs.filter(kind=kind) if kind else qs)


class FailingBackend(BaseSmsBackend):
    """The gateway down (the one mock: a true boundary). Its error carries the number, as a
    careless gateway library's might: it must reach neither the row nor the logs."""

    calls = 0

    def send(self, *, message_id: int, dedupe_key: str, phone: str, text: str) -> str:
        FailingBackend.calls += 1
        raise ConnectionError(f"could not reach the gateway for {phone}")


# --- triggers ---------------------------------------------------------------------------------------


def test_registration_queues_one_receipt_with_the_query_code_only_in_the_sent_text(cast, clock):
    registration = register(cast["reception"])
    case = registration.case
    (message,) = messages_of(case)
    assert message.kind == MessageKind.RECEIPT
    assert message.state == MessageState.QUEUED
    assert message.phone_masked == PHONE_MASKED
    assert message.dedupe_key == f"receipt:{case.pk}"
    assert message.body_masked == (
        f"【联合接访中心】您反映的事项已登记，案件编号{case.number}，查询码****。"
        "请妥善保管查询码，可凭编号和查询码查询办理进展。"
    )
    code = registration.query_code
    assert code and code not in message.body_masked
    assert pii.decrypt(message.body_enc) == message.body_masked.replace("****", code)


def test_a_double_submitted_registration_queues_one_receipt(cast, clock):
    first = register(cast["reception"], submission_key="key-1")
    again = register(
        cast["reception"], petitioner=first.case.main_petitioner, submission_key="key-1"
    )
    assert again.case.pk == first.case.pk and again.query_code is None
    assert len(messages_of(first.case)) == 1


def test_assignment_tells_the_organ_and_the_due_date(make_handling_case, clock):
    case = make_handling_case()  # bring_to_handling: due 60 days from now
    (message,) = messages_of(case, MessageKind.ASSIGNMENT)
    due = timezone.localdate(NOW + timedelta(days=60))
    assert due == date(2026, 5, 1)
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    assert message.body_masked == (
        f"【联合接访中心】您的案件{case.number}已交由{lead.department.name}办理，"
        "办理期限至2026年5月1日。"
    )
    assert message.dedupe_key == f"assignment:{lead.pk}"
    assert pii.decrypt(message.body_enc) == message.body_masked  # no secret in it


def test_delivery_sends_the_evaluation_link_to_the_petitioner_only(cast, settings, clock):
    settings.SMS_LINK_BASE_URL = "https://petition.example.gov.cn"
    replied = bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
    )
    case = replied.case
    (message,) = messages_of(case, MessageKind.REPLY_READY)
    link = "https://petition.example.gov.cn" + replied.evaluation_path
    assert message.petitioner_id == case.main_petitioner_id
    assert message.body_masked == (
        f"【联合接访中心】您的案件{case.number}已作出答复。请通过以下链接对办理情况进行评价：****"
    )
    assert pii.decrypt(message.body_enc) == message.body_masked.replace("****", link)
    # Nowhere else: no other message, event or notification carries the token.
    token = replied.token
    assert not Message.objects.exclude(pk=message.pk).filter(body_masked__contains=token)
    assert not CaseEvent.objects.filter(case=case, message__contains=token)
    # Three messages on the case: receipt, assignment, reply ready.
    assert [m.kind for m in messages_of(case)] == ["receipt", "assignment", "reply_ready"]


def test_review_window_last_week_once_per_window(cast, sms_dir):
    with time_machine.travel(NOW, tick=False) as traveller:
        replied = bring_to_replied(
            reception=cast["reception"],
            triage=cast["triage"],
            officer=cast["police"],
            head=cast["head"],
        )
        window = Deadline.objects.get(
            case=replied.case, kind=DeadlineKind.REVIEW_REQUEST_WINDOW, met_at__isnull=True
        )
        last_day = timezone.localdate(window.due_at)
        # More than a week before the last day: nothing yet.
        traveller.move_to(window.due_at - timedelta(days=8))
        assert svc.queue_review_window_messages() == 0
        traveller.move_to(window.due_at - timedelta(days=6))
        assert svc.queue_review_window_messages() == 1
        assert svc.queue_review_window_messages() == 0  # the daily run again: nothing twice
        traveller.move_to(window.due_at - timedelta(days=1))
        assert svc.queue_review_window_messages() == 0
    (message,) = messages_of(replied.case, MessageKind.REVIEW_WINDOW)
    assert message.dedupe_key == f"review_window:{window.pk}"
    assert message.body_masked == (
        f"【联合接访中心】您的案件{replied.case.number}申请复查的期限将于"
        f"{last_day.year}年{last_day.month}月{last_day.day}日届满，"
        "如对答复意见不服，请在此前提出复查申请。"
    )


def test_an_appointment_queues_one_message(handling_case, cast, clock):
    from outreach.services.visits import schedule_appointment

    handling_case.refresh_from_db()
    row = schedule_appointment(
        actor=cast["county_police"],
        case=handling_case,
        at=NOW + timedelta(days=2, hours=5, minutes=30),
        place="县联合接访中心二楼接待室",
        expected_version=handling_case.version,
        submission_key="appt-1",
    )
    (message,) = messages_of(handling_case, MessageKind.APPOINTMENT)
    assert message.dedupe_key == f"appointment:{row.pk}"
    assert "县联合接访中心二楼接待室" in message.body_masked
    assert "14:30" in message.body_masked  # 9:00 + 5 h 30 min, Beijing time


def test_an_aid_refusal_queues_one_result_message(handling_case, cast, people, clock):
    from outreach.tests.fixtures_aid import apply, complete, decide

    application = apply(cast["county_reception"], handling_case)
    complete(cast["county_reception"], application)
    decide(people["county_head"], application, decision="refuse", reasons="不属于救助范围")
    (message,) = messages_of(handling_case, MessageKind.AID_RESULT)
    assert message.body_masked == (
        f"【联合接访中心】您就案件{handling_case.number}提出的司法救助申请："
        "经审查决定不予救助，书面告知书将送达您，如有疑问可向决定机关咨询。"
    )


# --- opt-out, no number, after commit ----------------------------------------------------------------


def test_a_person_who_opted_out_gets_nothing(cast, sms_dir, clock):
    person = make_petitioner(cast["reception"], sms_opt_out=True)
    case = register(cast["reception"], petitioner=person).case
    (message,) = messages_of(case)
    assert message.state == MessageState.OPTED_OUT
    result = svc.send_due_messages()
    assert (result.sent, result.batches) == (0, 0)
    assert not sms_dir.exists() or not list(sms_dir.iterdir())
    assert not CaseEvent.objects.filter(case=case, kind="message_sent")


def test_opting_out_after_the_message_was_queued_stops_it(cast, sms_dir, clock):
    case = register(cast["reception"]).case
    person = case.main_petitioner
    person.sms_opt_out = True
    person.save(update_fields=["sms_opt_out"])
    assert svc.send_due_messages().opted_out == 1
    assert Message.objects.get(case=case).state == MessageState.OPTED_OUT
    assert not sms_dir.exists() or not list(sms_dir.iterdir())


def test_a_person_without_a_number_gets_nothing(cast, sms_dir, clock):
    person = make_petitioner(cast["reception"], phone="")
    case = register(cast["reception"], petitioner=person).case
    (message,) = messages_of(case)
    assert (message.state, message.phone_masked) == (MessageState.OPTED_OUT, "")
    assert svc.send_due_messages().batches == 0


def test_the_sender_is_kicked_after_commit_only(
    cast, clock, django_capture_on_commit_callbacks, monkeypatch
):
    """Registration writes a notification and a text message: one broker message after commit
    (the notifications' delivery carrying the sender along), none after a rollback."""
    from config.celery import app

    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, *a, **k: sent.append((name, k.get("kwargs")))
    )
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        register(cast["reception"])
        raise RuntimeError("the desk's request failed after registering")
    assert sent == [] and not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        register(cast["reception"])
    assert len(callbacks) == 1
    assert sent == [
        ("clocks.tasks.deliver_pending_notifications", {"also": ["outreach.tasks.send_messages"]})
    ]
    assert Message.objects.count() == 1


def test_a_message_alone_kicks_the_sender_alone(cast, clock, monkeypatch):
    from clocks.notify import publish_kick
    from config.celery import app

    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, *a, **k: sent.append((name, k.get("kwargs")))
    )
    publish_kick(["outreach.tasks.send_messages"])
    assert sent == [("outreach.tasks.send_messages", None)]


def test_kicks_in_one_transaction_share_one_callback_unless_a_savepoint_may_drop_it(
    django_capture_on_commit_callbacks, db
):
    from clocks.notify import kick

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        kick("clocks.tasks.deliver_pending_notifications")
        kick("clocks.tasks.deliver_pending_notifications")
        with transaction.atomic():  # a savepoint: joins the outer callback
            kick("outreach.tasks.send_messages")
    assert len(callbacks) == 1
    assert callbacks[0].tasks == [
        "clocks.tasks.deliver_pending_notifications",
        "outreach.tasks.send_messages",
    ]
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with transaction.atomic():
            kick("outreach.tasks.send_messages")  # inside a savepoint that could roll back
        kick("clocks.tasks.deliver_pending_notifications")  # so not joined to it
    assert [c.tasks for c in callbacks] == [
        ["outreach.tasks.send_messages"],
        ["clocks.tasks.deliver_pending_notifications"],
    ]


# --- the sender ---------------------------------------------------------------------------------------


def test_the_sender_writes_each_message_once_and_marks_it_sent(cast, sms_dir, clock):
    case = register(cast["reception"]).case
    (message,) = messages_of(case)
    result = svc.send_due_messages()
    assert (result.sent, result.retried, result.failed, result.batches) == (1, 0, 0, 1)
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.sent_at == NOW
    assert message.attempts == 1
    assert message.gateway_id == f"file:{file_name(message.dedupe_key)}"
    files = list(sms_dir.iterdir())
    assert [f.name for f in files] == ["receipt%3A" + str(case.pk) + ".json"]
    written = json.loads(files[0].read_text())
    assert written["text"] == pii.decrypt(message.body_enc)
    assert written["to"] == PHONE_MASKED  # the file never holds the full number
    # The timeline: masked text and number, no query code, no number.
    (event,) = CaseEvent.objects.filter(case=case, kind="message_sent")
    assert event.message == f"{PHONE_MASKED}：{message.body_masked}"
    assert event.data == {"message": message.pk, "message_kind": "receipt", "phone": PHONE_MASKED}
    assert PHONE not in event.message and PHONE not in json.dumps(event.data)
    # Again: nothing due.
    assert svc.send_due_messages().batches == 0


def test_the_file_backend_shows_a_key_once(tmp_path):
    backend = FileBackend(tmp_path)
    first = backend.send(message_id=1, dedupe_key="receipt:7", phone=PHONE, text="第一次")
    again = backend.send(message_id=1, dedupe_key="receipt:7", phone=PHONE, text="第二次")
    assert first == again
    (only,) = list(tmp_path.iterdir())
    assert json.loads(only.read_text())["text"] == "第一次"


def test_a_failing_gateway_is_retried_with_backoff_then_given_up(cast, settings, clock, caplog):
    settings.SMS_MAX_ATTEMPTS = 4
    case = register(cast["reception"]).case
    FailingBackend.calls = 0
    backend = FailingBackend()
    caplog.set_level(logging.DEBUG)
    expected_next = [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    at = NOW
    for attempt, wait in enumerate(expected_next, start=1):
        assert svc.send_due_messages(backend=backend).retried == 1
        message = Message.objects.get(case=case)
        assert (message.state, message.attempts) == (MessageState.QUEUED, attempt)
        assert message.next_attempt_at == at + wait
        assert message.last_error == "ConnectionError"
        # Not due before its time.
        assert svc.send_due_messages(backend=backend).batches == 0
        at = at + wait
        clock.move_to(at)
    assert svc.send_due_messages(backend=backend).failed == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.FAILED, 4)
    assert FailingBackend.calls == 4
    (event,) = CaseEvent.objects.filter(case=case, kind="message_failed")
    assert PHONE not in event.message
    assert not CaseEvent.objects.filter(case=case, kind="message_sent")
    # The number never reached a log record.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "not sent" in logged
    assert PHONE not in logged and "1381234" not in logged


def test_the_sender_logs_counts_never_the_number_or_the_text(cast, sms_dir, clock, caplog):
    registration = register(cast["reception"])
    caplog.set_level(logging.DEBUG)
    from outreach.tasks import send_messages

    assert send_messages.apply().get() == {"sent": 1, "retried": 0, "failed": 0, "opted_out": 0}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "messages: sent=1" in logged
    assert PHONE not in logged
    assert registration.query_code not in logged


def test_the_sender_runs_a_constant_number_of_queries_per_batch(cast, sms_dir, clock):
    def run_with(n: int) -> int:
        for _ in range(n):
            register(cast["reception"])
        with CaptureQueriesContext(connection) as ctx:
            result = svc.send_due_messages()
        assert (result.sent, result.batches) == (n, 1)
        return len(ctx.captured_queries)

    few = run_with(2)
    many = run_with(8)
    assert few == many
    # claim (savepoint, select for update, update, release), the batch read, then the writes
    # (savepoint, update, insert of the events, release), and the empty claim that ends the run
    # (savepoint, select, release).
    assert few == 4 + 1 + 4 + 3


# --- the HTTP gateway ---------------------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Gateway.received.append(
            {
                "auth": self.headers["Authorization"],
                "content_type": self.headers["Content-Type"],
                "body": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(_Gateway.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": "gw-42", "echo": PHONE}).encode())

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send"
    server.shutdown()
    server.server_close()


def test_the_http_gateway_gets_json_with_the_token_and_the_key(gateway):
    backend = HttpGatewayBackend(url=gateway, token="s3cret-token", timeout=5)
    gateway_id = backend.send(message_id=9, dedupe_key="receipt:9", phone=PHONE, text="您好")
    assert gateway_id == "gw-42"
    (request,) = _Gateway.received
    assert request["auth"] == "Bearer s3cret-token"
    assert request["content_type"] == "application/json; charset=utf-8"
    assert request["body"] == {"client_msg_id": "receipt:9", "phone": PHONE, "text": "您好"}


def test_the_http_gateway_raises_on_an_error_status_without_the_number(gateway):
    _Gateway.status = 503
    backend = HttpGatewayBackend(url=gateway, token="t", timeout=5)
    with pytest.raises(SmsError) as err:
        backend.send(message_id=9, dedupe_key="receipt:9", phone=PHONE, text="您好")
    assert str(err.value) == "gateway answered 503"


def test_the_http_gateway_unreachable_is_an_sms_error():
    backend = HttpGatewayBackend(url="http://127.0.0.1:9/", token="t", timeout=1)
    with pytest.raises(SmsError) as err:
        backend.send(message_id=9, dedupe_key="k", phone=PHONE, text="x")
    assert PHONE not in str(err.value)


def test_the_sender_through_the_http_gateway(cast, settings, gateway, clock):
    settings.SMS_BACKEND = "outreach.sms.http.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = gateway
    settings.SMS_GATEWAY_TOKEN = "tok"
    registration = register(cast["reception"])
    assert svc.send_due_messages().sent == 1
    (request,) = _Gateway.received
    assert request["body"]["phone"] == PHONE  # decrypted for the gateway, and only there
    assert registration.query_code in request["body"]["text"]
    assert request["body"]["client_msg_id"] == f"receipt:{registration.case.pk}"
    assert Message.objects.get(case=registration.case).gateway_id == "gw-42"


# --- API, case page, admin, desk ----------------------------------------------------------------------


def test_the_api_lists_the_case_messages_masked(client, cast, sms_dir, clock):
    registration = register(cast["reception"])
    case = registration.case
    svc.send_due_messages()
    client.force_login(cast["triage"])
    response = client.get(f"/api/v1/cases/{case.pk}/messages/")
    assert response.status_code == 200
    (row,) = response.json()
    assert row["kind"] == "receipt" and row["state"] == "sent"
    assert row["phone_masked"] == PHONE_MASKED
    assert "****" in row["text"]
    body = response.content.decode()
    assert registration.query_code not in body and PHONE not in body
    assert "body_enc" not in row


def test_the_api_is_scoped_like_the_case(client, cast, clock):
    case = register(cast["reception"]).case
    client.force_login(cast["county_reception"])
    assert client.get(f"/api/v1/cases/{case.pk}/messages/").status_code == 404
    assert client.get("/api/v1/cases/999999999/messages/").status_code == 404


def test_the_case_page_shows_the_messages_masked(client, cast, sms_dir, clock):
    registration = register(cast["reception"])
    case = registration.case
    svc.send_due_messages()
    client.force_login(cast["triage"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="outreach-messages"' in page
    assert "回执和查询码" in page or "Receipt and query code" in page
    assert PHONE_MASKED in page
    assert registration.query_code not in page and PHONE not in page


def test_the_template_admin_refuses_unknown_placeholders():
    template = MessageTemplate.objects.get(kind=MessageKind.ASSIGNMENT)
    form = MessageTemplateForm(
        data={
            "kind": "assignment",
            "body": "案件{case_number}由{query_code}办理",
            "is_active": True,
        },
        instance=template,
    )
    assert not form.is_valid()
    assert "{query_code}" in form.errors["body"][0]
    form = MessageTemplateForm(
        data={"kind": "assignment", "body": "案件{case_number由", "is_active": True},
        instance=template,
    )
    assert not form.is_valid()
    form = MessageTemplateForm(
        data={
            "kind": "assignment",
            "body": "案件{case_number}已交{department}，{due_date}前办结",
            "is_active": True,
        },
        instance=template,
    )
    assert form.is_valid(), form.errors


def test_an_edited_template_is_used_at_once(cast, clock):
    template = MessageTemplate.objects.get(kind=MessageKind.RECEIPT)
    template.body = "已登记：{case_number}，查询码{query_code}"
    template.save()
    case = register(cast["reception"]).case
    assert Message.objects.get(case=case).body_masked == f"已登记：{case.number}，查询码****"


def test_the_api_registration_records_the_opt_out(client, cast, clock):
    from intake.tests.helpers import valid_id

    client.force_login(cast["reception"])
    body = {
        "petitioner": {
            "name": "赵六",
            "id_type": "resident",
            "id_number": valid_id(),
            "phone": "13900001111",
            "sms_opt_out": True,
        },
        "channel": "visit",
        "purpose": "appeal",
        "category": "court.execution",
        "organ": "court",
        "request": "请求依法执行。",
        "legal_case_number": "（2024）冀0102执987号",
    }
    response = client.post("/api/v1/cases/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    message = Message.objects.get(case_id=case_id)
    assert message.petitioner.sms_opt_out is True
    assert message.state == MessageState.OPTED_OUT


def test_a_correction_withdraws_and_restores_the_opt_out(cast, clock):
    from petitions.services import correct_petitioner

    person = make_petitioner(cast["reception"])
    person = correct_petitioner(
        actor=cast["reception"],
        petitioner=person,
        changes={"sms_opt_out": True},
        reason="本人要求不接收短信",
    )
    assert person.sms_opt_out is True
    assert person.history.first().history_change_reason == "本人要求不接收短信"
    person = correct_petitioner(
        actor=cast["reception"],
        petitioner=person,
        changes={"sms_opt_out": False},
        reason="本人要求恢复",
    )
    assert person.sms_opt_out is False


def test_counts_by_state(cast, org, sms_dir, clock):
    register(cast["reception"])
    register(cast["reception"], petitioner=make_petitioner(cast["reception"], sms_opt_out=True))
    svc.send_due_messages()
    since, until = NOW - timedelta(days=1), NOW + timedelta(days=1)
    from outreach.selectors_messages import counts

    assert counts([org.city.pk], since, until) == {
        "total": 2,
        "queued": 0,
        "sent": 1,
        "failed": 0,
        "opted_out": 1,
    }
    assert counts([org.county_a.pk], since, until)["total"] == 0
