"""The list pages' Python rendering writes what the templates it replaced wrote (issue 10)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from core.jinja2 import engine
from core.listing import (
    FastSelect,
    choice_labels,
    local_date,
    local_iso,
    local_minute,
    url_maker,
)
from petitions.models import ContentCategory
from petitions.states import CaseState


def _render(template: str, **context: Any) -> str:
    return Template(template).render(Context(context))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 31, 16, 30, 5, 123456, tzinfo=UTC),  # the next day in Beijing
        datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
        date(2026, 2, 3),
    ],
)
def test_dates_are_what_the_date_filter_shows(value):
    with timezone.override("Asia/Shanghai"):
        assert local_date(value) == _render('{{ v|date:"Y-m-d" }}', v=value)
        assert local_iso(value) == _render("{{ v|date:'c' }}", v=value)
        if isinstance(value, datetime):
            assert local_minute(value) == _render('{{ v|date:"Y-m-d H:i" }}', v=value)
    assert local_date(None) == local_iso(None) == local_minute(None) == ""


def test_url_maker_is_reverse():
    make = url_maker("petitions:case_detail")
    assert make(7) == reverse("petitions:case_detail", args=[7])
    assert make(123456789) == reverse("petitions:case_detail", args=[123456789])


def test_choice_labels_follow_the_language():
    with translation.override("en"):
        assert choice_labels(CaseState)[CaseState.CLOSED] == "Closed"
    with translation.override("zh-hans"):
        label = choice_labels(CaseState)[CaseState.CLOSED]
        assert label == str(CaseState.CLOSED.label) and label != "Closed"


def test_jinja2_escapes_like_the_django_template():
    template = engine().from_string("{{ v }}")
    for value in ['<a href="x">&\'</a>', "张三", 42, None, gettext_lazy("Closed")]:
        assert template.render({"v": value}) == _render("{{ v }}", v=value)
    assert template.render({"v": mark_safe("<b>")}) == "<b>"  # noqa: S308 - a constant


def test_jinja2_translates_with_django():
    template = engine().from_string(
        '{{ _("Closed") }}|{% trans n=n %}{{ n }} day left{% pluralize %}{{ n }} days left'
        "{% endtrans %}"
    )
    with translation.override("en"):
        assert template.render({"n": 2}) == "Closed|2 days left"
    with translation.override("zh-hans"):
        zh = template.render({"n": 1})
        assert zh == f"{translation.gettext('Closed')}|" + translation.ngettext(
            "%(n)s day left", "%(n)s days left", 1
        ) % {"n": 1}
        assert "Closed" not in zh and "day" not in zh


class _Form(forms.Form):
    plain = forms.ChoiceField(
        choices=[("", "Any"), ("a", 'A & "quoted" <b>'), ("b", "乙")], required=False
    )
    grouped = forms.ChoiceField(
        choices=[("", "Any"), ("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")],
        required=False,
    )


@pytest.mark.parametrize("data", [None, {"plain": "a", "grouped": "y"}, {"plain": "nope"}])
@pytest.mark.parametrize("name", ["plain", "grouped"])
def test_fast_select_writes_the_markup_of_the_template_select(data, name):
    slow, fast = _Form(data), _Form(data)
    fast.fields[name].widget = FastSelect(choices=fast.fields[name].choices)  # type: ignore[attr-defined]
    for form in (slow, fast):
        form.fields[name].widget.attrs.update({"autofocus": True, "data-x": "1", "hidden": False})
    assert str(fast[name]) == str(slow[name])


@pytest.mark.django_db
def test_fast_select_of_a_model_choice_field(reference_data):
    def field(widget: type[forms.Select]) -> forms.ModelChoiceField:  # type: ignore[type-arg]
        return forms.ModelChoiceField(
            queryset=ContentCategory.objects.select_related("parent").order_by("code"),
            required=False,
            empty_label="Any",
            widget=widget,
        )

    chosen = ContentCategory.objects.order_by("code").last()
    assert chosen is not None
    slow = forms.Form({"c": str(chosen.pk)})
    fast = forms.Form({"c": str(chosen.pk)})
    slow.fields["c"] = field(forms.Select)
    fast.fields["c"] = field(FastSelect)
    assert str(fast["c"]) == str(slow["c"])
    assert "selected" in str(fast["c"])
