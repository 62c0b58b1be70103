"""Opening, changing and closing campaigns: who may, what is refused, history kept."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign, CampaignKind, CampaignState
from campaigns.selectors import campaigns_visible_to, can_manage, get_campaign_for
from campaigns.services import close_campaign, create_campaign, update_campaign
from core.errors import DomainError, PermissionDenied, StaleState

pytestmark = pytest.mark.django_db


def _open(actor, center, **extra):
    fields = {
        "actor": actor,
        "name": "积案化解",
        "kind": CampaignKind.BACKLOG,
        "center": center,
        "starts_on": date(2026, 3, 1),
        "ends_on": date(2026, 5, 31),
    }
    fields.update(extra)
    return create_campaign(**fields)


def test_supervisor_and_leader_open_a_campaign_of_their_center(org, cast):
    by_supervisor = _open(cast["supervisor"], org.city, targets={"resolution_rate": "0.8"})
    by_leader = _open(cast["leader"], org.city)
    assert by_supervisor.targets == {"resolution_rate": 0.8}
    assert by_supervisor.state == CampaignState.OPEN
    assert by_leader.created_by == cast["leader"]
    assert by_supervisor.history.count() == 1
    assert by_supervisor.history.first().history_user == cast["supervisor"]


def test_a_center_above_may_open_a_campaign_for_a_subordinate_center(org, cast):
    campaign = _open(cast["supervisor"], org.county_a)
    assert campaign.center == org.county_a
    assert can_manage(cast["supervisor"], campaign)


@pytest.mark.parametrize("who", ["reception", "triage", "police", "head", "archivist", "admin"])
def test_other_roles_cannot_open_a_campaign(org, cast, who):
    with pytest.raises(PermissionDenied):
        _open(cast[who], org.city)
    assert Campaign.objects.count() == 0


def test_nobody_opens_a_campaign_for_a_center_above_or_elsewhere(org, cast):
    with pytest.raises(PermissionDenied):
        _open(cast["supervisor"], org.province)
    with pytest.raises(PermissionDenied):
        _open(cast["outsider"], org.city)


def test_field_errors_on_bad_input(org, cast):
    with pytest.raises(ValidationError) as caught:
        _open(
            cast["supervisor"],
            org.city,
            name=" ",
            starts_on=date(2026, 5, 1),
            ends_on=date(2026, 4, 1),
            targets={"resolution_rate": 1.5, "speed": 1},
            members=[cast["outsider"]],
        )
    errors = caught.value.message_dict
    assert set(errors) == {"name", "ends_on", "targets", "members"}
    assert errors["ends_on"] == ["专项活动的结束日期不能早于开始日期。"]
    assert len(errors["targets"]) == 2
    with pytest.raises(ValidationError) as caught:
        _open(cast["supervisor"], org.city, kind="party")
    assert set(caught.value.message_dict) == {"kind"}


def test_update_checks_the_version_and_keeps_history(org, cast):
    campaign = _open(cast["supervisor"], org.city)
    updated = update_campaign(
        actor=cast["leader"],
        campaign=campaign,
        expected_version=1,
        ends_on=date(2026, 6, 30),
        members=[cast["police"], cast["head"]],
        targets={"cessation_rate": 0.6},
    )
    assert updated.version == 2
    assert updated.ends_on == date(2026, 6, 30)
    assert updated.targets == {"cessation_rate": 0.6}
    assert set(updated.members.all()) == {cast["police"], cast["head"]}
    assert updated.history.filter(history_user=cast["leader"]).exists()
    with pytest.raises(StaleState):
        update_campaign(
            actor=cast["supervisor"], campaign=campaign, expected_version=1, name="改名"
        )
    with pytest.raises(ValidationError) as caught:
        update_campaign(actor=cast["supervisor"], campaign=campaign, ends_on=date(2026, 1, 1))
    assert set(caught.value.message_dict) == {"ends_on"}
    with pytest.raises(ValidationError):
        update_campaign(actor=cast["supervisor"], campaign=campaign, center=org.county_a)


def test_subordinate_campaign_is_read_only_above_and_invisible_to_siblings(org, cast):
    from conftest import make_user
    from core.roles import Role

    county_supervisor = make_user("cs", org.county_a, [Role.SUPERVISOR])
    county_b_supervisor = make_user("cbs", org.county_b, [Role.SUPERVISOR])
    county_campaign = _open(county_supervisor, org.county_a)
    city_campaign = _open(cast["supervisor"], org.city)

    # the city reads the county's campaign, but does not run it
    assert get_campaign_for(cast["supervisor"], county_campaign.pk) == county_campaign
    assert not can_manage(cast["supervisor"], county_campaign)
    with pytest.raises(PermissionDenied):
        close_campaign(actor=cast["supervisor"], campaign=county_campaign)
    # the county does not see the city's campaign (nothing handed down to it yet)
    assert list(campaigns_visible_to(county_supervisor)) == [county_campaign]
    assert list(campaigns_visible_to(county_b_supervisor)) == []
    assert not can_manage(county_supervisor, city_campaign)
    with pytest.raises(PermissionDenied):
        update_campaign(actor=county_supervisor, campaign=city_campaign, name="x")
    # an outsider sees neither: the same 404 as a campaign that does not exist
    from django.http import Http404

    with pytest.raises(Http404):
        get_campaign_for(cast["outsider"], city_campaign.pk)
    with pytest.raises(Http404):
        get_campaign_for(cast["outsider"], 999999)


def test_close_is_once_and_stops_changes(org, cast):
    campaign = _open(cast["supervisor"], org.city)
    closed = close_campaign(actor=cast["supervisor"], campaign=campaign, expected_version=1)
    assert closed.state == CampaignState.CLOSED
    assert closed.version == 2
    with pytest.raises(DomainError):
        close_campaign(actor=cast["supervisor"], campaign=campaign)
    with pytest.raises(DomainError):
        update_campaign(actor=cast["supervisor"], campaign=campaign, name="x")
