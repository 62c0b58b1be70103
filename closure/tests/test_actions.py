"""The closure steps offered on the case page (petitions.actions provider): only what the user
may do now, each link answering 200 with its section on the page."""

import pytest
from django.test import Client

from closure import services
from closure.testing import DEFAULT_REPLY, bring_to_handling, bring_to_replied
from petitions.actions import case_actions, registered_providers
from petitions.selectors import cases_visible_to

pytestmark = pytest.mark.django_db

ROLES = ["reception", "triage", "police", "court", "head", "supervisor", "archivist", "justice"]


@pytest.fixture
def cases(cast):
    kw = {
        "reception": cast["reception"],
        "triage": cast["triage"],
        "officer": cast["police"],
        "assisting_officers": (cast["court"],),
    }
    out = {"handling": bring_to_handling(**kw)}
    out["submitted"] = bring_to_handling(**kw)
    services.save_reply_draft(
        actor=cast["police"], case=out["submitted"], text=DEFAULT_REPLY, submit=True
    )
    out["approved"] = bring_to_handling(**kw)
    services.save_reply_draft(actor=cast["police"], case=out["approved"], text=DEFAULT_REPLY)
    services.approve_reply(actor=cast["head"], case=out["approved"])
    out["replied"] = bring_to_replied(head=cast["head"], **kw).case
    closed = bring_to_replied(head=cast["head"], **kw)
    services.evaluate_by_link(
        case_id=closed.case.pk,
        token=closed.token,
        verdict=services.Verdict("satisfied", "satisfied"),
    )
    services.close_case(actor=cast["supervisor"], case=closed.case)
    out["closed"] = closed.case
    archived = bring_to_replied(head=cast["head"], **kw)
    services.evaluate_by_link(
        case_id=archived.case.pk,
        token=archived.token,
        verdict=services.Verdict("satisfied", "satisfied"),
    )
    services.close_case(actor=cast["supervisor"], case=archived.case)
    services.archive_case(actor=cast["archivist"], case=archived.case)
    out["archived"] = archived.case
    for case in out.values():
        case.refresh_from_db()
    return out


def names(user, case):
    return {a.name for a in case_actions(user, case) if a.name.startswith("closure.")}


def test_provider_is_registered():
    assert "closure.actions" in {p.__module__ for p in registered_providers()}


def test_each_role_is_offered_what_it_may_do_now(cast, cases):
    assert names(cast["police"], cases["handling"]) >= {"closure.draft"}
    assert "closure.approve" not in names(cast["police"], cases["submitted"])
    assert "closure.approve" in names(cast["head"], cases["submitted"])
    assert {"closure.deliver", "closure.print"} <= names(cast["police"], cases["approved"])
    assert "closure.evaluate" in names(cast["reception"], cases["replied"])
    assert "closure.return_visit" in names(cast["police"], cases["replied"])
    assert "closure.close" in names(cast["supervisor"], cases["replied"])
    assert "closure.archive" in names(cast["archivist"], cases["closed"])
    assert names(cast["supervisor"], cases["archived"]) >= {"closure.reopen"}
    assert names(cast["archivist"], cases["archived"]) <= {"closure.print"}


def test_every_offered_link_works(cast, cases):
    for who in ROLES:
        client = Client()
        client.force_login(cast[who])
        visible = set(cases_visible_to(cast[who]).values_list("pk", flat=True))
        for case in cases.values():
            if case.pk not in visible:
                continue  # the case page (and so its actions) is a 404 for this user
            for action in case_actions(cast[who], case):
                if not action.name.startswith("closure."):
                    continue
                path, _, fragment = action.url.partition("#")
                response = client.get(path)
                assert response.status_code == 200, (who, action)
                if fragment:
                    assert f'id="{fragment}"' in response.content.decode(), (who, action)
