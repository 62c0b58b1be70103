"""The security matrix (issue 11), generated from the URL resolver and the OpenAPI schema.

Every URL pattern of the project (the Django admin aside: it is staff-only and Django's own) has an
entry in ``ENTRIES`` that says how to fill its path arguments from the world of conftest.py and
what kind of page it is. A pattern without an entry fails ``test_every_url_has_an_entry``, so a new
endpoint cannot be added without deciding who may see it.

For every entry, every viewer outside a target's scope (another department, a county user on a city
case, another county, another province, anonymous, a deactivated user's session and token, a user
whose role was removed) calls it with GET and POST:
- never a 5xx;
- object pages answer 404 (not yours = not found), 403 (a role refusal), 405 (wrong method) or,
  for someone not logged in, 401 / a redirect to the login page; never 2xx;
- no response (of any status) carries the target's secrets (request text, petitioner name, case
  number);
- nothing is written: each target case keeps its version, state, events and history.
The test Client runs in the test's transaction; no live server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from petitions.models import Case, CaseEvent

from .conftest import Target, World, viewers

pytestmark = pytest.mark.django_db

Kwargs = Callable[[Target], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    kind: str  # "public": anyone; "list": logged-in users, rows filtered; "object": scoped
    kwargs: Kwargs | None = None


def _k(**spec: str) -> Kwargs:
    """Path arguments from the target: _k(pk="case") → {"pk": target.id("case")}."""
    return lambda t: {name: t.id(kind) for name, kind in spec.items()}


PUBLIC = Entry("public")
LIST = Entry("list")
CASE = Entry("object", _k(pk="case"))


def obj(**spec: str) -> Entry:
    return Entry("object", _k(**spec))


ENTRIES: dict[str, Entry] = {
    # core, auth, i18n
    "home": LIST,
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "set_language": PUBLIC,
    "javascript-catalog": PUBLIC,
    "schema": LIST,
    "api-docs": LIST,
    "api:token": PUBLIC,
    "api:me": LIST,
    # petitions API
    "api:petitioner-list": LIST,
    "api:petitioner-lookup": LIST,
    "api:petitioner-detail": obj(pk="petitioner"),
    "api:petitioner-correct": obj(pk="petitioner"),
    "api:petitioner-reveal": obj(pk="petitioner"),
    "api:case-list": LIST,
    "api:case-detail": CASE,
    "api:case-answer": CASE,
    "api:case-attachments": CASE,
    "api:case-history": CASE,
    "api:case-report-visit": CASE,
    "api:case-visits": CASE,
    "api:case-messages": CASE,  # outreach.api.messages: the case's text messages, masked
    # routing API
    "api:routing-screen": CASE,
    "api:routing-assign": CASE,
    "api:routing-reassign": CASE,
    "api:routing-transfer": CASE,
    "api:routing-confirm-return": CASE,
    "api:routing-sign": CASE,
    "api:routing-return": CASE,
    "api:routing-accept": CASE,
    "api:routing-contribution": CASE,
    "api:routing-notes": CASE,
    "api:routing-assignments": CASE,
    "api:routing-notices": CASE,
    "api:routing-notice-pdf": obj(pk="notice"),
    "api:routing-inbox": LIST,
    "api:routing-inbox-counts": LIST,
    # supervision API
    "api:supervision-case": CASE,
    "api:supervision-extensions": CASE,
    "api:supervision-extension-decide": obj(pk="extension"),
    "api:supervision-orders": CASE,
    "api:supervision-order-respond": obj(pk="order"),
    "api:supervision-order-close": obj(pk="order"),
    "api:supervision-reminders": CASE,
    "api:supervision-leader-responsibility": CASE,
    "api:supervision-leader-responsibility-resolve": obj(pk="responsibility"),
    "api:supervision-consultations": CASE,
    "api:supervision-findings": CASE,
    "api:supervision-bulletins": LIST,
    # closure API
    "api:closure-reply": CASE,
    "api:closure-approve": CASE,
    "api:closure-send-back": CASE,
    "api:closure-deliver": CASE,
    "api:closure-evaluation-link": CASE,
    "api:closure-evaluations": CASE,
    "api:closure-return-visits": CASE,
    "api:closure-close": CASE,
    "api:closure-agreement": CASE,
    "api:closure-archive": CASE,
    "api:closure-reopen": CASE,
    "api:closure-reexamination": CASE,
    # appeals API
    "api:appeals-review": CASE,
    "api:appeals-review-decide": CASE,
    "api:appeals-termination": CASE,
    "api:appeals-termination-approve": CASE,
    # reports API
    "api:reports-indicators": LIST,
    "api:reports-exports": LIST,
    "api:reports-export-detail": obj(pk="export"),
    "api:reports-export-download": obj(pk="export"),
    # petitions pages
    "petitions:case_list": LIST,
    "petitions:case_detail": CASE,
    "petitions:reveal_pii": Entry(
        "object",
        lambda t: {"pk": t.case.pk, "petitioner_pk": t.petitioner.pk, "field": "id_number"},
    ),
    "petitions:attachment_add": CASE,
    "petitions:attachment_download": obj(pk="case", att_pk="attachment"),
    # intake pages
    "intake:desk": LIST,
    "intake:receipt": obj(case_id="case"),
    "intake:correct": obj(petitioner_id="petitioner"),
    "intake:status": PUBLIC,
    # routing pages
    "routing:triage_queue": LIST,
    "routing:screen": CASE,
    "routing:reassign": CASE,
    "routing:inbox": LIST,
    "routing:assignment_detail": obj(pk="assignment"),
    "routing:assignment_sign": obj(pk="assignment"),
    "routing:assignment_return": obj(pk="assignment"),
    "routing:assignment_accept": obj(pk="assignment"),
    "routing:assignment_note": obj(pk="assignment"),
    "routing:assignment_contribute": obj(pk="assignment"),
    "routing:assignment_attachment": obj(pk="assignment"),
    "routing:notice": obj(pk="notice"),
    "routing:notice_pdf": obj(pk="notice"),
    # supervision pages
    "supervision:dashboard": LIST,
    "supervision:case_list": LIST,
    "supervision:notifications": LIST,
    "supervision:mark_read": LIST,
    "supervision_case:detail": CASE,
    "supervision_case:request_extension": CASE,
    "supervision_case:decide_extension": obj(pk="extension"),
    "supervision_case:issue_order": CASE,
    "supervision_case:respond_order": obj(pk="order"),
    "supervision_case:close_order": obj(pk="order"),
    "supervision_case:send_reminder": CASE,
    "supervision_case:assign_responsibility": CASE,
    "supervision_case:resolve_responsibility": obj(pk="responsibility"),
    "supervision_case:record_consultation": CASE,
    "supervision_case:record_finding": CASE,
    "supervision_case:issue_bulletin": CASE,
    # closure pages
    "closure:inbox": LIST,
    "closure:case": CASE,
    "closure:reply_save": CASE,
    "closure:reply_approve": CASE,
    "closure:reply_send_back": CASE,
    "closure:reply_deliver": CASE,
    "closure:reply_print": CASE,
    "closure:reply_pdf": CASE,
    "closure:reissue_link": CASE,
    "closure:evaluate": CASE,
    "closure:visit_schedule": CASE,
    "closure:visit_record": CASE,
    "closure:close": CASE,
    "closure:agreement": CASE,
    "closure:archive": CASE,
    "closure:reopen": CASE,
    "closure:reexamination": CASE,
    # The petitioner's one-time evaluation link: the token is the credential; a wrong one is 404.
    "closure_public:evaluate": Entry(
        "object", lambda t: {"case_id": t.case.pk, "token": "not-the-token-" + "0" * 20}
    ),
    # appeals pages
    "appeals:queue": LIST,
    "appeals:case": CASE,
    "appeals:request_review": CASE,
    "appeals:decide_review": CASE,
    "appeals:propose_termination": CASE,
    "appeals:decide_termination": CASE,
    "appeals:answer": obj(pk="review"),
    "appeals:answer_pdf": obj(pk="review"),
    "appeals:record": CASE,
    "appeals:record_pdf": CASE,
    # reports pages
    "reports:index": LIST,
    "reports:ledger": LIST,
    "reports:export": obj(pk="export"),
    "reports:export_download": obj(pk="export"),
    "reports:league": LIST,
    "reports:staff": LIST,
    "reports:staff_record": obj(pk="staff"),
    "reports:bulletin": LIST,
    "reports:notice": LIST,
    "reports:suggestions": LIST,
    "reports:suggestion": obj(pk="suggestion"),
    # campaign pages (campaigns.views): lists filtered by campaigns_visible_to; a campaign or
    # matter not the viewer's is 404
    "campaigns:list": LIST,
    "campaigns:create": LIST,  # supervisors and leaders; 403 for other roles
    "campaigns:detail": obj(pk="campaign"),
    "campaigns:edit": obj(pk="campaign"),
    "campaigns:close": obj(pk="campaign"),
    "campaigns:matters": obj(pk="campaign"),
    "campaigns:matter_create": obj(pk="campaign"),
    "campaigns:matter": obj(pk="campaign", mid="matter"),
    "campaigns:matter_sign": obj(pk="campaign", mid="matter"),
    "campaigns:matter_progress": obj(pk="campaign", mid="matter"),
    "campaigns:matter_ledger": obj(pk="campaign", mid="matter"),
    "campaigns:ledger_export": obj(pk="campaign"),
    "campaigns:summary_pdf": obj(pk="campaign"),
    # campaigns API (campaigns.api): the same selectors as the pages
    "api:campaign-list": LIST,
    "api:campaign-detail": obj(pk="campaign"),
    "api:campaign-close": obj(pk="campaign"),
    "api:campaign-matters": obj(pk="campaign"),
    "api:campaign-matter": obj(pk="campaign", mid="matter"),
    "api:campaign-matter-sign": obj(pk="campaign", mid="matter"),
    "api:campaign-matter-progress": obj(pk="campaign", mid="matter"),
    "api:campaign-summary": obj(pk="campaign"),
    "api:campaign-sweep": obj(pk="campaign"),
    "api:campaign-candidates": obj(pk="campaign"),
    "api:campaign-candidate-decide": obj(pk="campaign", cid="candidate"),
    "campaigns:sweep": obj(pk="campaign"),
    "campaigns:sweep_candidate": obj(pk="campaign", cid="candidate"),
    # quality review (campaigns.api.review, campaigns.views_review)
    "api:campaign-score-sheets": LIST,  # the default sheet is everyone's; a center's its own
    "api:campaign-score-sheet-items": obj(pk="score_sheet"),
    "api:campaign-sample": obj(pk="review_campaign"),
    "api:campaign-sample-reviewers": obj(pk="review_campaign", case="case"),
    "api:campaign-outside-reviewers": obj(pk="review_campaign"),
    "api:campaign-reviews": obj(pk="review_campaign"),
    "api:campaign-review-results": obj(pk="review_campaign"),
    "api:campaign-review-bulletin": obj(pk="review_campaign"),
    "api:campaign-review-objection": obj(rid="case_review"),
    "api:campaign-review-decision": obj(rid="case_review"),
    "api:campaign-review-finding": obj(rid="case_review"),
    "campaigns:review_results": obj(pk="review_campaign"),
    "campaigns:review_sample": obj(pk="review_campaign"),
    "campaigns:review_outside_reviewer": obj(pk="review_campaign"),
    "campaigns:review_bulletin": obj(pk="review_campaign"),
    "campaigns:review_case": obj(pk="review_campaign", case="case"),
    "campaigns:review_assign": obj(pk="review_campaign", case="case"),
    "campaigns:review_score": obj(pk="review_campaign", case="case"),
    "campaigns:review_object": obj(rid="case_review"),
    "campaigns:review_decide": obj(rid="case_review"),
    "campaigns:review_finding": obj(rid="case_review"),
    "campaigns:reviewer_home": LIST,
    # score sheets (campaigns.views_sheets): the center's own, its editors only
    "campaigns:sheet_list": LIST,  # the default sheet and the viewer's center's own
    "campaigns:sheet_copy": LIST,  # copies for the viewer's own center
    "campaigns:sheet_edit": obj(pk="score_sheet"),
    # judicial aid (outreach.views_aid, outreach.api.aid): the application on the city's case
    "outreach:aid_apply": CASE,
    "outreach:aid_detail": obj(pk="case", aid="aid"),
    "outreach:aid_complete": obj(pk="case", aid="aid"),
    "outreach:aid_eligibility": obj(pk="case", aid="aid"),
    "outreach:aid_decide": obj(pk="case", aid="aid"),
    "outreach:aid_approve": obj(pk="case", aid="aid"),
    "outreach:aid_pay": obj(pk="case", aid="aid"),
    "outreach:aid_notice": obj(pk="case", aid="aid"),
    "outreach:aid_notice_pdf": obj(pk="case", aid="aid"),
    "outreach:aid_ledger": LIST,  # rows of the viewer's visible cases only
    "outreach:aid_ledger_export": LIST,
    "api:case-judicial-aid": CASE,
    "api:case-judicial-aid-detail": obj(pk="case", aid="aid"),
    "api:case-judicial-aid-complete": obj(pk="case", aid="aid"),
    "api:case-judicial-aid-eligibility": obj(pk="case", aid="aid"),
    "api:case-judicial-aid-decide": obj(pk="case", aid="aid"),
    "api:case-judicial-aid-approve": obj(pk="case", aid="aid"),
    "api:case-judicial-aid-pay": obj(pk="case", aid="aid"),
    # tours carrying cases (outreach.views_tours, outreach.api.tours): the tour is the object
    # 下访 / 约访 (outreach.views_visits, outreach.api.visits): the case, its appointment
    "outreach:record_outreach": Entry(
        "object", lambda t: {"pk": t.id("case"), "kind": "home_visit"}
    ),
    "outreach:appointment_step": Entry(
        "object", lambda t: {"pk": t.id("case"), "oid": t.id("appointment"), "step": "kept"}
    ),
    "api:case-outreach": CASE,
    "api:case-outreach-kept": obj(pk="case", oid="appointment"),
    "api:case-outreach-missed": obj(pk="case", oid="appointment"),
    "api:case-outreach-cancel": obj(pk="case", oid="appointment"),
    # reception days (领导接访日): a center's schedule is read by every staff member of the
    # centers that see it and carries no case data (its writes are the office's: 403 otherwise)
    "outreach:my_reception_days": LIST,
    "outreach:reception_days": Entry("list", lambda t: {"cid": t.case.center_id}),
    "outreach:reception_day_cancel": obj(pk="duty"),
    "outreach:reception_notice": Entry(
        "list", lambda t: {"cid": t.case.center_id, "year": 2026, "month": 3}
    ),
    "outreach:reception_notice_pdf": Entry(
        "list", lambda t: {"cid": t.case.center_id, "year": 2026, "month": 3}
    ),
    "api:reception-days": LIST,
    "outreach:tours": LIST,
    "outreach:tour_plan": LIST,  # supervisors and leaders of a center with centers below; else 403
    "outreach:tour": obj(pk="tour"),
    "outreach:tour_add_cases": obj(pk="tour"),
    "outreach:tour_remove_case": obj(pk="tour", case_id="case"),
    "outreach:tour_finding": obj(pk="tour", case_id="case"),
    "outreach:tour_reception": obj(pk="tour"),
    "outreach:tour_meeting": obj(pk="tour"),
    "outreach:tour_report": obj(pk="tour"),
    "outreach:tour_report_pdf": obj(pk="tour"),
    "api:tour-list": LIST,
    "api:tour-detail": obj(pk="tour"),
    "api:tour-cases": obj(pk="tour"),
    "api:tour-case": obj(pk="tour", case_id="case"),
    "api:tour-finding": obj(pk="tour", case_id="case"),
    "api:tour-receptions": obj(pk="tour"),
    "api:tour-meetings": obj(pk="tour"),
    "api:tour-report": obj(pk="tour"),
}

# Who is outside each target's scope.
CITY_OUTSIDERS = (
    "anonymous",
    "deactivated",  # logged in and took a token before being deactivated
    "roleless",  # lost their role while logged in
    "justice",  # another department of the same center
    "county_police",  # a lower center
    "county_supervisor",
    "outsider",  # another province
)
COUNTY_OUTSIDERS = (
    "county_b_triage",  # another center at the same level
    "county_b_supervisor",
    "police",  # the city's police department holds no assignment on the county case
    "outsider",
)
OTHER_OUTSIDERS = ("triage", "police", "supervisor")
NOT_LOGGED_IN = {"anonymous", "deactivated"}


def url_patterns() -> list[tuple[str, str]]:
    """(route, name) of every pattern outside the Django admin."""

    def walk(patterns: list[Any], prefix: str, ns: str) -> Any:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = ":".join(filter(None, [ns, p.namespace or ""]))
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), ":".join(filter(None, [ns, p.name or "?"]))

    return [
        (r, n) for r, n in walk(get_resolver().url_patterns, "", "") if not n.startswith("admin:")
    ]


def test_every_url_has_an_entry():
    names = {name for _, name in url_patterns()}
    missing = sorted(names - set(ENTRIES))
    assert not missing, f"URL patterns without an entry in the security matrix: {missing}"
    stale = sorted(set(ENTRIES) - names)
    assert not stale, f"matrix entries for URL names that no longer exist: {stale}"


def test_every_schema_path_is_a_url_with_an_entry():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert len(schema["paths"]) > 40
    unresolved = []
    for path in schema["paths"]:
        concrete = re.sub(r"\{[^}]+\}", "1", path)  # every path parameter: {pk}, {mid}, {rid}…
        match = resolve(concrete)
        name = ":".join(filter(None, [match.namespace, match.url_name]))
        if name not in ENTRIES:
            unresolved.append((path, name))
    assert not unresolved


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


def probe(client: Client, viewer: str, name: str, entry: Entry, target: Target) -> list[str]:
    kwargs = entry.kwargs(target) if entry.kwargs else {}
    url = reverse(name, kwargs=kwargs)
    problems = []
    api = url.startswith("/api/")
    for method in ("get", "post"):
        try:
            if method == "get":
                response = client.get(url)
            elif api:
                response = client.post(url, {}, content_type="application/json")
            else:
                response = client.post(url, {})
        except Exception as exc:  # a crash is a finding, not the end of the walk
            problems.append(f"{viewer} {method.upper()} {url}: raised {exc!r}")
            continue
        status = response.status_code
        where = f"{viewer} {method.upper()} {url} ({name})"
        if status >= 500:
            problems.append(f"{where}: {status}")
            continue
        body = _body(response)
        leaked = [s for s in target.secrets if s.encode() in body]
        if leaked:
            problems.append(f"{where}: {status} carries {leaked}")
        if entry.kind == "object":
            allowed = {403, 404, 405, 429}
            if viewer in NOT_LOGGED_IN:
                allowed |= {401}
            if status not in allowed and not (
                viewer in NOT_LOGGED_IN and _login_redirect(response)
            ):
                problems.append(f"{where}: {status}, expected 404/403")
        elif (
            entry.kind == "list"
            and viewer in NOT_LOGGED_IN
            and status not in {401, 403, 405}
            and not _login_redirect(response)
        ):
            problems.append(f"{where}: {status} for someone not logged in")
    return problems


def snapshot(target: Target) -> tuple[Any, ...]:
    case = Case.objects.get(pk=target.case.pk)
    return (
        case.version,
        case.state,
        CaseEvent.objects.filter(case_id=case.pk).count(),
        case.history.count(),
    )


@pytest.mark.parametrize(
    ("which", "outsiders"),
    [("city", CITY_OUTSIDERS), ("county", COUNTY_OUTSIDERS), ("other", OTHER_OUTSIDERS)],
)
def test_out_of_scope_viewers_get_nothing_anywhere(world: World, which, outsiders):
    target: Target = getattr(world, which)
    before = snapshot(target)
    clients = viewers(world)
    problems: list[str] = []
    for viewer in outsiders:
        # Logging out ends the session: the logout page goes last.
        for name, entry in sorted(ENTRIES.items(), key=lambda item: item[0] == "logout"):
            problems += probe(clients[viewer], viewer, name, entry, target)
    assert not problems, f"{len(problems)} findings:\n" + "\n".join(problems[:400])
    assert snapshot(target) == before, "an out-of-scope call changed the case"


def test_the_matrix_ids_are_real(world: World):
    """Control: the ids the matrix fills in open for someone in scope, so a 404 above means
    "not yours", not "no such thing"."""
    supervisor = viewers(world)["supervisor"]
    for name, kwargs in [
        ("petitions:case_detail", {"pk": world.city.case.pk}),
        ("api:case-detail", {"pk": world.county.case.pk}),
        ("api:case-history", {"pk": world.city.case.pk}),
        ("reports:export", {"pk": world.city.id("export")}),
        ("reports:suggestion", {"pk": world.city.id("suggestion")}),
        ("reports:staff_record", {"pk": world.city.id("staff")}),
        ("routing:notice", {"pk": world.city.id("notice")}),
        ("supervision_case:detail", {"pk": world.city.case.pk}),
    ]:
        response = supervisor.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 200, (name, response.status_code)
        assert (
            world.city.secrets[2].encode() in response.content or "api" in name or "reports" in name
        )
