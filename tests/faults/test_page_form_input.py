"""Bad input on the page forms (issue 11; the API side is tests/test_api_input.py and schemathesis).

Every page form that takes text, choices, ids or files is posted, as the user whose form it is,
with: 100 KB of text, a NUL byte, emoji (4-byte UTF-8) in names and text, a wrong-typed value in
a choice, number or date field, garbage ids in hidden and select fields, and, where there is an
upload, an executable renamed .pdf, a .pdf holding PNG bytes and a file over the size limit.

Expected: never a 5xx; a refusal re-renders the page (200/400/409) or redirects with a message,
says why in Chinese (the UI's default language), and writes nothing (every row count of the
project's tables is unchanged). Emoji are accepted in names and text, and stored intact.
Each form runs its inputs in rolled-back savepoints on one case, so the module stays fast.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closure.testing import bring_to_handling, bring_to_replied
from conftest import Org
from core.models import DepartmentKind, User
from petitions.models import Case, Petitioner
from petitions.testing import make_petitioner, register
from petitions.validation import MAX_ATTACHMENT_BYTES
from routing.models import Assignment

pytestmark = pytest.mark.django_db

LONG = "长" * 100_000  # 100 KB and more
NUL = "含\x00空字符"
EMOJI = "诉求😀🙏"
EMOJI_NAME = "王😀"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03" + b"\x00" * 64
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"(?<![\w.])[A-Za-z]{3,}(?![\w.])")
PROJECT_APPS = (
    "core",
    "petitions",
    "intake",
    "clocks",
    "routing",
    "supervision",
    "closure",
    "appeals",
    "reports",
)


@dataclass
class Env:
    org: Org
    cast: dict[str, User]
    case: Case | None = None
    person: Petitioner | None = None

    def dept(self, kind: str = DepartmentKind.POLICE) -> int:
        return self.org.dept(self.org.city, kind).pk

    def assignment(self, actor: str) -> int:
        department = self.cast[actor].department_id or 0
        return Assignment.objects.filter(case=self.case, department_id=department).latest("pk").pk


def _date(days: int = 30) -> str:
    return timezone.localdate(timezone.now() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class PageForm:
    name: str
    actor: str
    setup: Callable[[Env], None]
    url: Callable[[Env], str]
    body: Callable[[Env], dict[str, Any]]
    text: tuple[str, ...] = ()  # free text: 100 KB, NUL, emoji
    names: tuple[str, ...] = ()  # names: emoji
    typed: dict[str, str] = field(default_factory=dict)  # choice/number/date: a wrong value
    ids: tuple[str, ...] = ()  # hidden and select ids: garbage
    upload: str = ""  # the file field
    # where an accepted text is stored: (model, field) looked up with the posted value
    stored: dict[str, tuple[type[Any], str]] = field(default_factory=dict)
    # what an accepted post answers: a redirect, or 200 for a step that answers with a page of
    # its own (the delivery's handover copy with the evaluation link, issue 18 #8)
    ok_status: int = 302


# --- the cases the forms act on -------------------------------------------------------------------


def _registered(env: Env) -> None:
    env.case = register(env.cast["reception"]).case


def _person(env: Env) -> None:
    env.person = make_petitioner(env.cast["reception"], name="赵六")


def _assigned(env: Env) -> None:
    from routing.services import DepartmentDue, assign_case

    _registered(env)
    assert env.case is not None
    assign_case(
        actor=env.cast["triage"],
        case=env.case,
        lead=DepartmentDue(
            env.org.dept(env.org.city, DepartmentKind.POLICE), timezone.now() + timedelta(days=60)
        ),
    )


def _handling(env: Env) -> None:
    c = env.cast
    env.case = bring_to_handling(reception=c["reception"], triage=c["triage"], officer=c["police"])


def _approved(env: Env) -> None:
    from closure.services import approve_reply, save_reply_draft
    from closure.testing import DEFAULT_REPLY

    _handling(env)
    assert env.case is not None
    save_reply_draft(actor=env.cast["police"], case=env.case, text=DEFAULT_REPLY, submit=True)
    approve_reply(actor=env.cast["head"], case=env.case)


def _replied(env: Env) -> None:
    c = env.cast
    env.case = bring_to_replied(
        reception=c["reception"], triage=c["triage"], officer=c["police"], head=c["head"]
    ).case


def _window_passed(env: Env) -> None:
    """Replied 40 days ago: the petitioner's review window (30 days) has passed unused, so
    lawful termination may be proposed (Art 37 after Arts 35-36)."""
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        _replied(env)


def _review(env: Env) -> None:
    from appeals.services import request_review

    _replied(env)
    assert env.case is not None
    request_review(actor=env.cast["reception"], case=env.case, kind="review", reason="不服")


def _closed(env: Env) -> None:
    from closure.services import close_case

    _replied(env)
    assert env.case is not None
    close_case(actor=env.cast["supervisor"], case=env.case, note="")


def _case_url(name: str) -> Callable[[Env], str]:
    return lambda env: reverse(name, args=[env.case.pk])  # type: ignore[union-attr]


def _v(env: Env, key: str = "expected_version") -> dict[str, Any]:
    assert env.case is not None
    env.case.refresh_from_db()
    return {key: env.case.version}


def _desk_body(env: Env) -> dict[str, Any]:
    from intake.tests.helpers import new_case_data

    return new_case_data(submission_key=str(uuid.uuid4()))


def _correct_body(env: Env) -> dict[str, Any]:
    from intake.tests.helpers import valid_id

    return {
        "name": "赵六",
        "sex": "M",
        "birth_date": "",
        "id_type": "resident",
        "id_number": valid_id(),
        "phone": "13911112222",
        "address": "石家庄市",
        "household_registration": "",
        "occupation": "",
        "notes": "",
        "reason": "登记时录入有误",
    }


FORMS = [
    PageForm(
        "intake.register",
        "reception",
        lambda env: None,
        lambda env: reverse("intake:desk"),
        _desk_body,
        text=("request", "facts_reasons", "address", "notes"),
        names=("name",),
        typed={"headcount": "三", "sex": "X", "id_type": "passport2", "attachment_kind": "??"},
        ids=("channel", "purpose", "category", "organ"),
        upload="attachments",
        stored={
            "request": (Case, "request"),
            "facts_reasons": (Case, "facts_reasons"),
            "name": (Petitioner, "name"),
        },
    ),
    PageForm(
        "intake.correct",
        "reception",
        _person,
        lambda env: reverse("intake:correct", args=[env.person.pk]),  # type: ignore[union-attr]
        _correct_body,
        text=("address", "notes", "reason"),
        names=("name",),
        typed={"birth_date": "1990-13-45", "sex": "X", "id_type": "??"},
        stored={"name": (Petitioner, "name"), "address": (Petitioner, "address")},
    ),
    PageForm(
        "routing.not_accept",
        "triage",
        _registered,
        _case_url("routing:screen"),
        lambda env: {
            "decision": "not_accept",
            "not_accept-reason": "不属于受理范围",
            **_v(env, "not_accept-expected_version"),
        },
        text=("not_accept-reason",),
        ids=("not_accept-expected_version",),
    ),
    PageForm(
        "routing.assign",
        "triage",
        _registered,
        _case_url("routing:screen"),
        lambda env: {
            "decision": "assign",
            "assign-lead": env.dept(),
            "assign-lead_due": _date(),
            "assign-instructions": "请依法办理",
            **_v(env, "assign-expected_version"),
        },
        text=("assign-instructions",),
        typed={"assign-lead_due": "下周一"},
        ids=("assign-lead", "assign-expected_version"),
    ),
    PageForm(
        "routing.return",
        "police",
        _assigned,
        lambda env: reverse("routing:assignment_return", args=[env.assignment("police")]),
        lambda env: {"return-reason": "不属于本单位管辖"},
        text=("return-reason",),
    ),
    PageForm(
        "routing.note",
        "police",
        _handling,
        lambda env: reverse("routing:assignment_note", args=[env.assignment("police")]),
        lambda env: {"note-text": "已约谈信访人"},
        text=("note-text",),
        stored={"note-text": (apps.get_model("routing", "ProgressNote"), "text")},
    ),
    PageForm(
        "routing.attachment",
        "police",
        _handling,
        lambda env: reverse("routing:assignment_attachment", args=[env.assignment("police")]),
        lambda env: {
            "attachment-kind": "other",
            "attachment-file": SimpleUploadedFile("材料.pdf", PDF, "application/pdf"),
        },
        typed={"attachment-kind": "??"},
        upload="attachment-file",
    ),
    PageForm(
        "petitions.attachment",
        "reception",
        _registered,
        _case_url("petitions:attachment_add"),
        lambda env: {
            "attachment-kind": "other",
            "attachment-file": SimpleUploadedFile("材料.pdf", PDF, "application/pdf"),
        },
        typed={"attachment-kind": "??"},
        upload="attachment-file",
    ),
    PageForm(
        "supervision.extension",
        "police",
        _handling,
        _case_url("supervision_case:request_extension"),
        lambda env: {"extension-days": "10", "extension-reason": "需调取卷宗"},
        text=("extension-reason",),
        typed={"extension-days": "十天"},
    ),
    PageForm(
        "closure.reply",
        "police",
        _handling,
        _case_url("closure:reply_save"),
        lambda env: {
            "request_summary": "请求执行判决",
            "facts_reasons": "经查，执行款已部分到位。",
            "decision": "explain",
            "legal_basis": "《信访工作条例》第三十二条",
            "review_route": "",
            **_v(env),
        },
        text=("facts_reasons", "legal_basis"),
        typed={"decision": "maybe"},
        ids=("expected_version",),
        stored={"facts_reasons": (apps.get_model("closure", "Reply"), "facts_reasons")},
    ),
    PageForm(
        "closure.deliver",
        "police",
        _approved,
        _case_url("closure:reply_deliver"),
        lambda env: {"method": "in_person", "signed": "yes", "note": "", **_v(env)},
        text=("note",),
        typed={"method": "pigeon", "signed": "maybe", "delivered_on": "昨天"},
        ids=("expected_version",),
        ok_status=200,
    ),
    PageForm(
        "closure.agreement",
        "head",
        _handling,
        _case_url("closure:agreement"),
        lambda env: {
            "kind": "mediation",
            "agreement": SimpleUploadedFile("协议.pdf", PDF, "application/pdf"),
            "note": "双方达成调解协议",
            **_v(env),
        },
        text=("note",),
        typed={"kind": "handshake"},
        ids=("expected_version",),
        upload="agreement",
    ),
    PageForm(
        "closure.evaluate",
        "reception",
        _replied,
        _case_url("closure:evaluate"),
        lambda env: {
            "center_rating": "satisfied",
            "department_rating": "satisfied",
            "reasons": "",
            "channel": "desk",
            "given_by": "本人",
            **_v(env),
        },
        text=("given_by",),
        typed={"center_rating": "5", "channel": "pigeon"},
        ids=("expected_version",),
    ),
    PageForm(
        "closure.close",
        "supervisor",
        _replied,
        _case_url("closure:close"),
        lambda env: {"note": "已办结", **_v(env)},
        text=("note",),
        ids=("expected_version",),
    ),
    PageForm(
        "closure.reopen",
        "supervisor",
        _closed,
        _case_url("closure:reopen"),
        lambda env: {"reason": "发现新情况", **_v(env)},
        text=("reason",),
        ids=("expected_version",),
    ),
    PageForm(
        "appeals.request_review",
        "reception",
        _replied,
        _case_url("appeals:request_review"),
        lambda env: {"kind": "review", "channel": "in_person", "reason": "对答复不服", **_v(env)},
        text=("reason",),
        typed={"kind": "appeal", "channel": "pigeon"},
        ids=("expected_version",),
        stored={"reason": (apps.get_model("appeals", "ReviewRequest"), "reason")},
    ),
    PageForm(
        "appeals.decide_review",
        "province_supervisor",
        _review,
        _case_url("appeals:decide_review"),
        lambda env: {"decision": "uphold", "answer": "维持原处理意见", **_v(env)},
        text=("answer",),
        typed={"decision": "maybe"},
        ids=("expected_version",),
    ),
    PageForm(
        "appeals.propose_termination",
        "police",
        _window_passed,
        _case_url("appeals:propose_termination"),
        lambda env: {"grounds": "法律程序已穷尽", "support_unit": env.dept(), **_v(env)},
        text=("grounds",),
        ids=("support_unit", "expected_version"),
    ),
    PageForm(
        "reports.suggestion",
        "supervisor",
        lambda env: None,
        lambda env: reverse("reports:suggestions"),
        lambda env: {
            "department": env.dept(),
            "title": "执法建议",
            "problems": "问题",
            "suggestions": "建议",
            "response_due": _date(),
        },
        text=("title", "problems", "suggestions"),
        typed={"response_due": "月底"},
        ids=("department",),
        stored={"problems": (apps.get_model("reports", "EnforcementSuggestion"), "problems")},
    ),
]


# --- the checks ---------------------------------------------------------------------------------


def _count_sql() -> str:
    parts = []
    for model in apps.get_models():
        if model._meta.app_label in PROJECT_APPS and not model._meta.proxy:
            parts.append(f'(SELECT count(*) FROM "{model._meta.db_table}")')
    return "SELECT " + ", ".join(parts)


COUNT_SQL = _count_sql()


def counts() -> tuple[int, ...]:
    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL)
        return tuple(cursor.fetchone())


def errors_of(response: Any) -> list[str]:
    """The form errors and error messages the page shows."""
    from django import forms

    found: list[str] = []
    for context in response.context or []:
        for layer in getattr(context, "dicts", [context]):
            if not isinstance(layer, dict):
                continue
            for item in layer.values():
                if isinstance(item, forms.BaseForm) and item.is_bound and item.errors:
                    found += [str(e) for errs in item.errors.values() for e in errs]
                if isinstance(item, forms.BaseFormSet) and item.is_bound:
                    rows: list[Any] = list(item.errors)
                    found += [str(e) for row in rows for errs in row.values() for e in errs]
    html = response.content.decode(errors="replace")
    found += re.findall(r'<li class="msg-[^"]*error[^"]*">(.*?)</li>', html, re.S)
    return found


def _english(message: str, posted: Any) -> list[str]:
    text = message
    for value in posted if isinstance(posted, list) else [posted]:
        text = text.replace(str(value), "")
    text = re.sub(r"“[^”]*”", "", text)  # a quoted file name
    text = re.sub(r"\.[a-z]{2,4}\b", "", text)  # file types (.pdf, .docx)
    return [w for w in ENGLISH_WORD.findall(text) if w not in {"MB", "KB"}]


def _post(client: Client, form: PageForm, env: Env, data: dict[str, Any]) -> Any:
    return client.post(form.url(env), data)


def _inputs(form: PageForm) -> list[tuple[str, str, Any, str]]:
    """(label, field, value, expectation): "refuse", or "accept" (emoji: stored intact)."""
    out: list[tuple[str, str, Any, str]] = []
    for f in form.text:
        out += [(f"100KB {f}", f, LONG, "refuse"), (f"NUL {f}", f, NUL, "refuse")]
        out.append((f"emoji {f}", f, EMOJI, "accept"))
    for f in form.names:
        out.append((f"emoji {f}", f, EMOJI_NAME, "accept"))
    for f, wrong in form.typed.items():
        out.append((f"wrong type {f}", f, wrong, "refuse"))
    for f in form.ids:
        out += [
            (f"garbage id {f}", f, "abc", "refuse"),
            (f"unknown id {f}", f, "987654321", "refuse"),
        ]
    if form.upload:
        out += [
            ("exe as pdf", form.upload, ("说明.pdf", EXE, "application/pdf"), "refuse"),
            ("png bytes as pdf", form.upload, ("材料.pdf", PNG, "application/pdf"), "refuse"),
            (
                "over the size limit",
                form.upload,
                ("大文件.pdf", PDF + b"0" * MAX_ATTACHMENT_BYTES, "application/pdf"),
                "refuse",
            ),
        ]
    return out


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_bad_input_on_a_page_form_is_refused_in_chinese_and_saves_nothing(org, cast, form):
    env = Env(org, cast)
    form.setup(env)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast[form.actor])
    problems: list[str] = []

    # Control: the valid body goes through (so a refusal below is about the bad value).
    with transaction.atomic():
        response = _post(client, form, env, form.body(env))
        if response.status_code != form.ok_status or (
            form.ok_status == 200 and errors_of(response)
        ):
            problems.append(f"valid body: {response.status_code} {errors_of(response)}")
        transaction.set_rollback(True)

    for label, fld, value, expect in _inputs(form):
        data = form.body(env)
        if isinstance(value, tuple):
            value = SimpleUploadedFile(*value)
        data[fld] = value
        before = counts()
        with transaction.atomic():
            try:
                response = _post(client, form, env, data)
            except Exception as exc:  # a crash is a finding, not the end of the walk
                problems.append(f"{label}: raised {exc!r}")
                transaction.set_rollback(True)
                continue
            status = response.status_code
            where = f"{label}: {status}"
            if form.ok_status == 200:
                accepted = status == 200 and not errors_of(response)
            else:
                accepted = status == 302 and not errors_of(client.get(response["Location"]))
            if status >= 500:
                problems.append(where)
            elif accepted and expect == "accept":
                model, column = form.stored.get(fld, (None, ""))
                if model is not None and not model.objects.filter(**{column: value}).exists():
                    problems.append(f"{where}: accepted but not stored intact")
            elif accepted:
                problems.append(f"{where}: accepted")
            elif expect == "accept":
                problems.append(f"{where}: refused {errors_of(response)[:2]}")
            else:
                messages = errors_of(response)
                if status == 302:
                    messages = errors_of(client.get(response["Location"]))
                if not messages:
                    problems.append(f"{where}: refused without a message on the page")
                for message in messages:
                    if not CJK.search(message) or _english(message, value):
                        problems.append(f"{where}: not Chinese: {message[:200]!r}")
            transaction.set_rollback(True)
        if not accepted and counts() != before:
            problems.append(f"{label}: refused but rows were written")
    assert not problems, f"{form.name}: {len(problems)} findings:\n" + "\n".join(problems)


def test_a_review_form_posted_when_none_is_offered_says_why(org, cast):
    """A request for review posted with a wrong channel on a case that offers no review form
    (not replied yet): the page says what was wrong (appeals.views.render_case_page)."""
    env = Env(org, cast)
    _registered(env)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast["reception"])
    response = client.post(
        reverse("appeals:request_review", args=[env.case.pk]),  # type: ignore[union-attr]
        {"kind": "review", "channel": "pigeon", "reason": "不服", **_v(env)},
    )
    assert response.status_code == 400
    messages = re.findall(r'<li class="msg-error">(.*?)</li>', response.content.decode(), re.S)
    assert messages and all(CJK.search(m) for m in messages), messages
