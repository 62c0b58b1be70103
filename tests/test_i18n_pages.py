"""Issue #9: no English and no internal codes on the Chinese pages.

Every GET page of the URL resolver (found by walking it, so pages other apps add later are
covered too) is rendered in zh-hans for each role of the fixtures' cast and anonymously, on a
sample of cases. A page fails when its visible text shows
- a msgid of the project's own code that the catalogue leaves untranslated (empty msgstr, fuzzy,
  or not in locale/zh_Hans at all),
- an English word of four letters or more (outside an allowlist of names such as PDF), which also
  catches internal codes such as ``review_request:step1``.
URL patterns whose parameters the walker cannot fill, and pages that answered no user with 200,
are listed in a warning (not failures), so a new page is reported rather than silently untested.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone, translation

from core.models import Department, DepartmentKind, User
from petitions.events import EVENT_LABELS, FALLBACK, event_label
from petitions.models import CaseEvent
from petitions.states import TRANSITIONS
from petitions.testing import register
from routing.models import NoticeKind, WrittenNotice
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    sign_for_assignment,
    transfer_case,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = [p for p in ROOT.iterdir() if p.is_dir() and (p / "apps.py").exists()]
SOURCE_DIRS.append(ROOT / "templates")
# Not pages of the Chinese UI: the API (JSON, and Swagger's own UI), Django's admin (translated by
# Django), language switching, health checks, static and media files.
SKIP_PREFIXES = ("api/", "admin/", "i18n/", "jsi18n/", "static/", "media/", "healthz", "readyz")
ROLES = [
    "reception",
    "triage",
    "police",
    "head",
    "supervisor",
    "leader",
    "archivist",
    "admin",
]
# Latin words that are right on a Chinese page: names of formats and products, the language
# switch's "English".
ALLOWED_WORDS = {
    "pdf",
    "api",
    "english",
    "excel",
    "word",
    "csv",
    "xlsx",
    "json",
    "http",
    "https",
    "echarts",
    "swagger",
    "ofd",
    "jpeg",
    "docx",
}
CHINESE_NAMES = {
    "reception": "接待员王芳",
    "triage": "审查员李强",
    "police": "承办人张伟",
    "court": "承办人陈静",
    "procuratorate": "承办人刘洋",
    "justice": "承办人杨军",
    "head": "负责人赵磊",
    "supervisor": "督办员孙丽",
    "leader": "领导周明",
    "archivist": "归档员吴敏",
    "admin": "管理员郑浩",
    "province_supervisor": "省督办员钱进",
    "county_reception": "县接待员冯云",
    "county_triage": "县审查员何平",
    "county_police": "县承办人许亮",
    "outsider": "外省人员韩梅",
}
DEPARTMENT_NAMES = {
    DepartmentKind.POLICE: "公安局",
    DepartmentKind.PROCURATORATE: "人民检察院",
    DepartmentKind.COURT: "人民法院",
    DepartmentKind.JUSTICE: "司法局",
}


# --- the catalogue and the source -----------------------------------------------------------------

TEMPLATE_MSGID = re.compile(r"""\{%\s*trans(?:late)?\s+(?:"([^"]+)"|'([^']+)')""")
PYTHON_MSGID = re.compile(
    r"""\b(?:_|gettext|gettext_lazy|gettext_noop)\(\s*(?:"((?:[^"\\]|\\.)+)"|'((?:[^'\\]|\\.)+)')\s*[,)]"""
)


def _source_files() -> Iterator[Path]:
    for base in SOURCE_DIRS:
        for path in base.rglob("*"):
            if path.suffix not in (".py", ".html", ".txt"):
                continue
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            yield path


def source_msgids() -> set[str]:
    found: set[str] = set()
    for path in _source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        pattern = TEMPLATE_MSGID if path.suffix != ".py" else PYTHON_MSGID
        for match in pattern.finditer(text):
            found.add(match.group(1) or match.group(2))
    return found


def untranslated_msgids() -> set[str]:
    """Msgids of the project's code shown untranslated: empty, fuzzy, or absent from the .po."""
    po = polib.pofile(str(PO))
    translated = {
        e.msgid
        for e in po
        if not e.obsolete and "fuzzy" not in e.flags and (e.msgstr or any(e.msgstr_plural.values()))
    }
    candidates = {e.msgid for e in po if not e.obsolete} | source_msgids()
    return {
        m
        for m in candidates - translated
        # only what can show verbatim: no placeholders, some English in it
        if "%(" not in m and "{" not in m and re.search(r"[A-Za-z]{3,}", m)
    }


def event_kinds_in_source() -> set[str]:
    """Every CaseEvent.kind written by the code (record_event / CaseEvent(...) calls)."""
    kinds: set[str] = set()
    for path in _source_files():
        if path.suffix != ".py":
            continue
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"record_event\(|CaseEvent\(|CaseEvent\.objects\.create\(", text):
            window = text[call.end() : call.end() + 600]
            match = re.search(r"""kind=((?:f?"[^"]*"|\s|if|else|[\w.]+)+?)[,)\n]""", window)
            if match:
                kinds |= set(re.findall(r'"([a-z_]+)"', match.group(1)))
                if 'f"deadline_{' in match.group(1):
                    kinds |= {"deadline_warning", "deadline_overdue", "deadline_on_time"}
        # Set-based writers (the sweep): each SELECT feeding an INSERT INTO petitions_caseevent
        # names its kind as the second column, a literal or 'deadline_' || level.
        for insert in re.finditer(r"INSERT INTO petitions_caseevent \(case_id, kind,", text):
            block = text[insert.end() : insert.end() + 1500].split("), ", 1)[0]
            kinds |= set(re.findall(r"SELECT \w+\.case_id, '([a-z_]+)'(?!\s*\|\|)", block))
            if "'deadline_' || " in block:
                kinds |= {"deadline_warning", "deadline_overdue", "deadline_on_time"}
    return kinds


# --- visible text -----------------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """Text a user sees or hears: text nodes (not script/style) and the attributes read out."""

    SKIP = {"script", "style", "template"}
    ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        values = dict(attrs)
        for name in self.ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


URL = re.compile(r"https?://\S+")
# The receipt's query code: random letters and digits (petitions.services.QUERY_CODE_ALPHABET).
QUERY_CODE = re.compile(r"(查询码[:：]\s*)[A-HJ-NP-Z2-9]{6,}")


def problems(html: str, untranslated: set[str]) -> list[str]:
    text = URL.sub("", visible_text(html))  # an address shown to copy is not a word
    text = QUERY_CODE.sub(r"\1", text)  # a random query code may spell letters only
    found = []
    if "---------" in text:  # ModelChoiceField's default empty label, which no catalogue translates
        found.append("untranslated blank choice: '---------'")
    for msgid in untranslated:
        if re.search(rf"(?<![A-Za-z]){re.escape(msgid)}(?![A-Za-z])", text):
            found.append(f"untranslated: {msgid!r}")
    for word in sorted(
        set(re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z_:]{3,}(?![A-Za-z0-9])", text))
    ):
        if word.lower() not in ALLOWED_WORDS:
            line = next(line for line in text.splitlines() if word in line)
            found.append(f"English or a code: {word!r} in {line[:80]!r}")
    return found


# --- the URL patterns ---------------------------------------------------------------------------------


def url_patterns() -> Iterator[tuple[str, str]]:
    """(route, qualified name) of every named path() in the resolver, includes followed."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                route = str(p.pattern) if isinstance(p.pattern, RoutePattern) else None
                if route is None:
                    continue
                ns = p.namespace or ""
                yield from walk(
                    p.url_patterns, prefix + route, f"{namespace}{ns}:" if ns else namespace
                )
            elif isinstance(p, URLPattern) and isinstance(p.pattern, RoutePattern):
                yield prefix + str(p.pattern), f"{namespace}{p.name or ''}"

    yield from walk(get_resolver().url_patterns, "", "")


PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


# --- sample data ----------------------------------------------------------------------------------------


@pytest.fixture
def chinese_cast(org, cast):
    """The cast with Chinese names and departments (the fixtures' are English words)."""
    for username, name in CHINESE_NAMES.items():
        User.objects.filter(username=username).update(full_name=name)
    for kind, name in DEPARTMENT_NAMES.items():
        for department in Department.objects.filter(kind=kind):
            department.name = name
            department.save(update_fields=["name"])
    for user in cast.values():
        user.refresh_from_db()
    return cast


@pytest.fixture
def sample(org, chinese_cast):
    """Cases with a timeline of every event kind, notices, supervision overlays and coded
    notifications."""
    cast = chinese_cast
    registered = register(cast["reception"]).case
    handling = register(cast["reception"]).case
    police = org.dept(org.city, DepartmentKind.POLICE)
    lead, assist = assign_case(
        actor=cast["triage"],
        case=handling,
        lead=DepartmentDue(police, timezone.now() + timedelta(days=60)),
        assisting=[
            DepartmentDue(
                org.dept(org.city, DepartmentKind.COURT), timezone.now() + timedelta(days=30)
            )
        ],
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    from supervision.services import issue_supervision_order, request_extension

    request_extension(actor=cast["police"], case=handling, days=10, reason="需调取卷宗")
    issue_supervision_order(
        actor=cast["supervisor"],
        case=handling,
        requirement="十日内报告办理进展",
        due_at=timezone.now() + timedelta(days=10),
    )
    transferred = register(cast["reception"]).case
    transfer_case(actor=cast["triage"], case=transferred, to_center=org.county_a, reason="属地管辖")
    kinds = event_kinds_in_source() | set(EVENT_LABELS) | set(TRANSITIONS)
    CaseEvent.objects.bulk_create(
        CaseEvent(case=handling, kind=kind, at=timezone.now(), actor=cast["supervisor"])
        for kind in sorted(kinds)
    )
    from clocks.models import Notification, NotificationKind

    for user in cast.values():
        for body in ("handling:overdue", "review_request:step1", "screening:approaching", "note"):
            Notification.objects.create(
                recipient=user,
                case=handling,
                kind=NotificationKind.ESCALATION,
                title=handling.number,
                body=body,
            )
    notice = WrittenNotice.objects.filter(case=handling, kind=NoticeKind.ACCEPTANCE).first()
    pk_candidates = {
        "assignment": [lead.pk, assist.pk],
        "notice": [notice.pk] if notice else [],
        "case": [handling.pk, registered.pk, transferred.pk],
        "staff": [cast["police"].pk, cast["head"].pk],
    }
    from supervision.models import ExtensionRequest, SupervisionOrder

    pk_candidates["extension"] = list(
        ExtensionRequest.objects.filter(case=handling).values_list("pk", flat=True)
    )
    pk_candidates["order"] = list(
        SupervisionOrder.objects.filter(case=handling).values_list("pk", flat=True)
    )
    return {
        "handling": handling,
        "registered": registered,
        "petitioner": handling.main_petitioner,
        "pk": pk_candidates,
    }


def candidates(name: str, param: str, sample) -> list[object] | None:
    pks = sample["pk"]
    if param in ("pk", "id"):
        first = next((k for k in pks if k in name), "case")
        ordered = pks[first] + [v for k, vs in pks.items() if k != first for v in vs]
        return list(dict.fromkeys(ordered))
    if param in ("case_id", "case_pk"):
        return pks["case"]
    if param in ("petitioner_pk", "petitioner_id"):
        return [sample["petitioner"].pk]
    if param == "field":
        return ["id_number"]
    return None


# --- the tests ------------------------------------------------------------------------------------------


def test_every_event_kind_written_by_the_code_has_a_chinese_label():
    kinds = event_kinds_in_source()
    assert {"note", "supervision_order", "reminder", "assist_signed", "escalated"} <= kinds
    with translation.override("zh-hans"):
        for kind in sorted(kinds | set(TRANSITIONS)):
            label = event_label(kind)
            assert label != str(FALLBACK), f"no label for the event kind {kind!r}"
            assert not re.search(r"[A-Za-z]", label), f"{kind!r} shows {label!r}"


def test_the_blank_choice_of_every_select_is_chinese():
    from django.db.models.fields import BLANK_CHOICE_DASH

    with translation.override("zh-hans"):
        assert not re.search(r"[A-Za-z]", str(BLANK_CHOICE_DASH[0][1]))


def test_error_pages_are_chinese_and_styled(client, chinese_cast):
    client.force_login(chinese_cast["head"])
    response = client.get("/supervision/")  # a head is not a supervisor
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar' in html and "无权" in html and not problems(html, set())
    response = client.get("/cases/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar' in html and "页面不存在" in html and not problems(html, set())
    anonymous = Client()
    html = anonymous.get("/no-such-page/").content.decode()
    assert "页面不存在" in html and not problems(html, set())


def test_every_page_is_chinese_for_every_role(chinese_cast, sample):
    cast = chinese_cast
    untranslated = untranslated_msgids()
    users: list[User | None] = [cast[r] for r in ROLES] + [None]
    failures: dict[str, list[str]] = {}
    skipped: list[str] = []
    never_ok: list[str] = []
    checked = 0
    for route, name in url_patterns():
        if route.startswith(SKIP_PREFIXES) or not name:
            continue
        params = [m["name"] for m in PARAM.finditer(route)]
        options = [candidates(name, p, sample) for p in params]
        if any(o is None or o == [] for o in options):
            skipped.append(f"{name} ({route})")
            continue
        combos = list(itertools.islice(itertools.product(*options), 6))  # type: ignore[arg-type]
        ok = False
        post_only = True
        for user in users:
            client = Client()
            if user is not None:
                client.force_login(user)
            for combo in combos:
                path = "/" + route
                for value in combo:
                    path = PARAM.sub(str(value), path, count=1)
                response = client.get(path)
                if response.status_code != 405:
                    post_only = False
                if response.status_code >= 500:
                    failures.setdefault(path, []).append(f"{response.status_code} for {user}")
                    continue
                if response.status_code == 200:
                    ok = True
                if response.status_code not in (200, 400, 403, 404):
                    continue
                if "text/html" not in response.get("Content-Type", ""):
                    continue
                checked += 1
                found = problems(response.content.decode(), untranslated)
                if found:
                    failures.setdefault(path, []).extend(f"[{user}] {f}" for f in found)
                if response.status_code == 200:
                    break  # one sample object per user is enough
        if not ok and not post_only:
            never_ok.append(f"{name} ({route})")
    if skipped or never_ok:
        warnings.warn(
            "i18n walker: patterns with parameters it cannot fill: "
            + ", ".join(skipped)
            + "; pages no user could open with the sample data: "
            + ", ".join(never_ok),
            stacklevel=1,
        )
    assert checked > 50
    report = "\n".join(
        f"{path}:\n  " + "\n  ".join(sorted(set(items))[:15]) for path, items in failures.items()
    )
    assert not failures, f"pages with English or codes in zh-hans:\n{report}"


def test_notifications_never_show_internal_codes():
    from clocks.notify import describe_detail

    with translation.override("zh-hans"):
        for body in ("review_request:step1", "handling:overdue", "screening:approaching", "note"):
            text = describe_detail(body)
            assert not re.search(r"[A-Za-z]", text), f"{body!r} shows {text!r}"
