"""The in-process caches of code tables, deadline rules and centers (core.codecache): no query
once loaded, and a change seen at once in this process and, through the shared version, in
others."""

from __future__ import annotations

import pytest
from django.db import transaction

from clocks.deadlines import rule_for
from clocks.models import DeadlineKind
from core import codecache
from core.models import Center
from core.orgcache import center_by_pk, subtree_ids
from petitions.codetables import active_by_code, active_codes
from petitions.models import Channel

pytestmark = pytest.mark.django_db


def test_a_code_lookup_makes_no_query_once_loaded(reference_data, django_assert_num_queries):
    active_codes(Channel)
    with django_assert_num_queries(0):
        visit = active_by_code(Channel, "visit")
        assert visit is not None and visit.code == "visit"
        assert active_by_code(Channel, "no-such-code") is None


def test_lookups_hand_out_copies(reference_data):
    first = active_by_code(Channel, "visit")
    assert first is not None
    first.name = "changed by a caller"
    again = active_by_code(Channel, "visit")
    assert again is not None and again.name != "changed by a caller"


def test_a_saved_code_row_is_seen_at_once(reference_data):
    assert active_by_code(Channel, "visit") is not None
    channel = Channel.objects.get(code="visit")
    channel.is_active = False
    channel.save()
    assert active_by_code(Channel, "visit") is None
    Channel.objects.create(code="fax", name="传真")
    assert active_by_code(Channel, "fax") is not None


def test_a_change_in_another_process_is_seen_after_the_version_check(
    reference_data, django_assert_num_queries
):
    from petitions import codetables

    active_codes(Channel)
    # Another process saved a row: it bumped the shared version (and its own cache only).
    codecache._bump_shared(codetables._cache.name)
    codetables._cache._checked_at = 0.0  # the check interval has passed
    with django_assert_num_queries(4):  # the four code tables read again
        active_codes(Channel)
    with django_assert_num_queries(0):
        active_codes(Channel)


@pytest.mark.django_db(transaction=True)
def test_what_a_rolled_back_change_loaded_is_dropped(reference_data):
    active_codes(Channel)
    with pytest.raises(RuntimeError), transaction.atomic():
        Channel.objects.create(code="fax", name="传真")
        assert active_by_code(Channel, "fax") is not None  # its own transaction sees it
        raise RuntimeError
    assert active_by_code(Channel, "fax") is None


def test_a_queryset_update_needs_an_explicit_invalidate(reference_data):
    from petitions import codetables

    active_codes(Channel)
    Channel.objects.filter(code="visit").update(name="上门来访")
    codetables.invalidate()
    found = active_by_code(Channel, "visit")
    assert found is not None and found.name == "上门来访"


def test_deadline_rules_and_centers_are_cached(org, django_assert_num_queries):
    rule_for(DeadlineKind.SCREENING, org.city)
    center_by_pk(org.city.pk)
    with django_assert_num_queries(0):
        assert rule_for(DeadlineKind.SCREENING, org.city).kind == DeadlineKind.SCREENING
        city = center_by_pk(org.city.pk)
        assert city is not None and city.path == org.city.path
        assert set(subtree_ids(org.city)) == {
            org.city.pk,
            org.county_a.pk,
            org.county_b.pk,
        }
    new = Center.objects.create(name="新县", region_code="130188", level="county", parent=org.city)
    assert new.pk in subtree_ids(org.city)
