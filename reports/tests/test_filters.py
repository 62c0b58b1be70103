"""The report filters as the pages render them (issue 17 §4)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from intake.forms import category_choices

pytestmark = pytest.mark.django_db
QUERY = "from=2026-03-01&to=2026-03-31"


class SelectParser(HTMLParser):
    """The options of one <select> as [(group label or None, value)], in document order."""

    def __init__(self, select_id: str) -> None:
        super().__init__()
        self.select_id = select_id
        self.inside = False
        self.group: str | None = None
        self.options: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self.inside = a.get("id") == self.select_id
        elif self.inside and tag == "optgroup":
            self.group = a.get("label")
        elif self.inside and tag == "option":
            self.options.append((self.group, a.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "optgroup":
            self.group = None
        elif tag == "select":
            self.inside = False


def options_of(html: str, select_id: str) -> list[tuple[str | None, str]]:
    parser = SelectParser(select_id)
    parser.feed(html)
    return parser.options


def test_category_select_is_in_the_order_of_the_front_desk(client, cast):
    """The desk groups sub-categories under their parent, parents in their own order; the
    reports page shows the same tree (plus the parent itself as "all of it", first in its
    group), not the model's (sort_order, code) order that interleaves the two levels."""
    desk, _by_pk = category_choices()
    expected: list[tuple[str | None, str]] = []
    for value, label in desk[1:]:  # after the blank choice
        if isinstance(label, list):
            parent_pk = str(_by_pk[label[0][0]].parent_id)
            expected.append((value, parent_pk))
            expected += [(value, pk) for pk, _name in label]
        else:
            expected.append((None, value))
    assert len(expected) > 20  # the default code table: five parents, twenty sub-categories

    client.force_login(cast["supervisor"])
    html = client.get(f"/reports/?{QUERY}").content.decode()
    options = [o for o in options_of(html, "id_category") if o[1]]

    assert options == expected
