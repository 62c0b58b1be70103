from core.selectors import centers_visible_to, centers_writable_by


def names(qs):
    return {c.name for c in qs}


def test_province_sees_the_whole_hierarchy_below_it(org, cast):
    assert names(centers_visible_to(cast["province_supervisor"])) == {
        "省中心",
        "市中心",
        "甲县中心",
        "乙县中心",
    }


def test_city_sees_itself_and_its_counties_but_not_its_parent(org, cast):
    assert names(centers_visible_to(cast["supervisor"])) == {"市中心", "甲县中心", "乙县中心"}


def test_county_sees_only_itself(org, cast):
    assert names(centers_visible_to(cast["county_reception"])) == {"甲县中心"}


def test_another_province_sees_nothing_of_ours(org, cast):
    assert names(centers_visible_to(cast["outsider"])) == {"外省中心"}


def test_subordinate_centers_are_read_only(org, cast):
    assert names(centers_writable_by(cast["supervisor"])) == {"市中心"}


def test_centers_with_similar_path_prefix_are_not_confused(org, cast):
    # path "/1/" must not match "/10/...": build enough centers that ids reach two digits.
    from conftest import make_center

    extra = [make_center(f"省{i}", f"{150000 + i * 100}", "province") for i in range(12)]
    assert all(c.path.count("/") == 2 for c in extra)
    visible = names(centers_visible_to(cast["province_supervisor"]))
    assert not any(c.name in visible for c in extra)
