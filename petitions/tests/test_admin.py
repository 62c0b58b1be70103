"""Administration: code tables are editable, petitioners and cases are read-only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import User
from petitions.models import Case, Channel, ContentCategory
from petitions.testing import make_petitioner, register, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(reference_data) -> User:
    return User.objects.create_superuser("root", "root@example.org", "Root-pass-2026")


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_superuser_adds_a_channel_and_deactivates_it(superuser):
    client = client_for(superuser)
    response = client.post(
        reverse("admin:petitions_channel_add"),
        {"code": "wechat", "name": "微信", "sort_order": 9, "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = Channel.objects.get(code="wechat")
    assert channel.is_active and channel.name == "微信"
    response = client.post(
        reverse("admin:petitions_channel_change", args=[channel.pk]),
        {"code": "wechat", "name": "微信公众号", "sort_order": 9},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.is_active) == ("微信公众号", False)


def test_deactivate_action_on_the_code_table_list(superuser):
    ids = list(Channel.objects.filter(code__in=["letter", "phone"]).values_list("pk", flat=True))
    response = client_for(superuser).post(
        reverse("admin:petitions_channel_changelist"),
        {"action": "deactivate", "_selected_action": ids, "index": 0},
    )
    assert response.status_code == 302
    assert set(Channel.objects.filter(is_active=False).values_list("code", flat=True)) == {
        "letter",
        "phone",
    }


def test_content_category_parent_is_a_top_level_category(superuser):
    client = client_for(superuser)
    response = client.get(reverse("admin:petitions_contentcategory_add"))
    offered = set(response.context["adminform"].form.fields["parent"].queryset)
    assert offered == set(ContentCategory.objects.filter(parent__isnull=True))
    parent = ContentCategory.objects.get(code="court")
    response = client.post(
        reverse("admin:petitions_contentcategory_add"),
        {
            "code": "court.state_comp",
            "name": "国家赔偿",
            "parent": parent.pk,
            "sort_order": 6,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert ContentCategory.objects.get(code="court.state_comp").parent == parent
    listing = client.get(
        reverse("admin:petitions_contentcategory_changelist"), {"parent": parent.pk}
    )
    assert "国家赔偿" in listing.content.decode()


def test_staff_with_the_administrator_role_edits_code_tables(cast):
    admin_user = cast["admin"]
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client = client_for(admin_user)
    assert client.get(reverse("admin:petitions_purpose_changelist")).status_code == 200
    # ... but a staff member without that role does not.
    supervisor = cast["supervisor"]
    supervisor.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    assert (
        client_for(supervisor).get(reverse("admin:petitions_purpose_changelist")).status_code == 403
    )


def test_case_admin_is_read_only(superuser, cast):
    case = register(cast["reception"]).case
    client = client_for(superuser)
    assert client.get(reverse("admin:petitions_case_add")).status_code == 403
    change_url = reverse("admin:petitions_case_change", args=[case.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and case.number in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {"state": "closed", "request": "x"}).status_code == 403
    assert client.post(reverse("admin:petitions_case_delete", args=[case.pk])).status_code == 403
    case.refresh_from_db()
    assert case.state == "registered" and Case.objects.filter(pk=case.pk).exists()


def test_case_history_can_be_read_but_not_reverted(superuser, cast):
    case = register(cast["reception"]).case
    client = client_for(superuser)
    response = client.get(reverse("admin:petitions_case_history", args=[case.pk]))
    assert response.status_code == 200 and "reception" in response.content.decode()
    record = case.history.get()
    form_url = reverse("admin:petitions_case_simple_history", args=[case.pk, record.history_id])
    assert client.get(form_url).status_code == 200
    assert client.post(form_url, {"state": "closed", "request": "reverted"}).status_code == 403
    case.refresh_from_db()
    assert case.state == "registered" and case.history.count() == 1


def test_petitioner_admin_shows_only_masked_numbers(superuser, cast):
    number = resident_id()
    petitioner = make_petitioner(cast["reception"], id_number=number, phone="13900001111")
    client = client_for(superuser)
    for url in (
        reverse("admin:petitions_petitioner_changelist"),
        reverse("admin:petitions_petitioner_change", args=[petitioner.pk]),
    ):
        html = client.get(url).content.decode()
        assert petitioner.id_number_masked in html and "139****1111" in html
        assert number not in html and "13900001111" not in html
        assert petitioner.id_number_hash not in html and petitioner.id_number_enc not in html
        assert petitioner.phone_hash not in html
    assert client.get(reverse("admin:petitions_petitioner_add")).status_code == 403
    change = reverse("admin:petitions_petitioner_change", args=[petitioner.pk])
    assert client.post(change, {"name": "改名"}).status_code == 403
    petitioner.refresh_from_db()
    assert petitioner.name == "张三"


def test_petitioner_admin_finds_a_full_number_through_the_blind_index(superuser, cast):
    number = resident_id()
    wanted = make_petitioner(cast["reception"], name="甲", id_number=number, phone="13900001111")
    make_petitioner(cast["reception"], name="乙", phone="13700002222")
    client = client_for(superuser)
    url = reverse("admin:petitions_petitioner_changelist")
    for term in (number, "13900001111"):
        result = list(client.get(url, {"q": term}).context["cl"].result_list)
        assert result == [wanted]
    assert list(client.get(url, {"q": "乙"}).context["cl"].result_list) != [wanted]
