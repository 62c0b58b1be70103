import pytest
from django.core.management import call_command
from django.test import Client

from core.models import Center, Department, User, UserRole
from demo.organisation import DEMO_PASSWORD, DEMO_USERS


def counts():
    return (
        Center.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        UserRole.objects.count(),
    )


@pytest.mark.django_db
def test_seed_demo_is_idempotent(reference_data):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    # the 53 staff of DEMO_USERS and the outside reviewer of the demo review (demo.campaigns)
    assert counts() == first == (4, 16, 54, 54)


@pytest.mark.django_db
def test_demo_hierarchy_is_province_city_and_two_counties():
    call_command("seed_demo", no_campaigns=True)
    province = Center.objects.get(level="province")
    city = province.children.get()
    assert {c.level for c in city.children.all()} == {"county"}
    assert city.children.count() == 2
    for center in Center.objects.all():
        assert set(center.departments.values_list("kind", flat=True)) == {
            "police",
            "procuratorate",
            "court",
            "justice",
        }


# What each demo user's navigation must show, and must not.
EXPECTED_NAV = {
    "reception": {"intake:desk", "petitions:case_list"},
    "triage": {"routing:triage_queue", "petitions:case_list"},
    "police": {"routing:inbox"},
    "head": {"routing:inbox"},
    "supervisor": {"supervision:dashboard", "reports:index", "petitions:case_list"},
    "admin": {"admin:index", "petitions:case_list"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(DEMO_USERS))
def test_each_demo_user_logs_in_and_sees_only_their_navigation(username):
    call_command("seed_demo", no_campaigns=True)
    client = Client()
    login = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert login.status_code == 302, f"{username} could not log in"
    response = client.get("/")
    assert response.status_code == 200
    shown = {item["name"] for item in response.context["nav_items"]}
    from core.context_processors import NAV_ITEMS

    roles = set(DEMO_USERS[username][1])
    for name, _label, allowed in NAV_ITEMS:
        if name in shown:
            assert roles & allowed or (name == "admin:index" and "admin" in roles), (
                f"{username} sees {name}"
            )
    for name in EXPECTED_NAV.get(username, set()):
        if name in {n for n, _l, _a in NAV_ITEMS}:
            # a section appears once its pages exist; it must then be in this user's menu
            from django.urls import NoReverseMatch, reverse

            try:
                reverse(name)
            except NoReverseMatch:
                continue
            assert name in shown, f"{username} misses {name}"
