"""The list pages' Python rendering writes what the templates it replaced wrote (issue 10)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core.fastlist import FastListSerializer
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


# --- the list serializer --------------------------------------------------------------------------


class _Inner(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    shout = serializers.SerializerMethodField()

    def get_shout(self, obj: Any) -> str:
        return str(obj.name).upper()


class _Row(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    when = serializers.DateTimeField()
    label = serializers.CharField(source="get_label")  # type: ignore[assignment]
    inner = _Inner(allow_null=True)
    inner_name = serializers.CharField(source="inner.name", allow_null=True)
    maybe = serializers.CharField(required=False)
    days = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = FastListSerializer

    def get_days(self, obj: Any) -> int:
        return int(self.context["offset"]) + obj.id


class _Obj:
    def __init__(self, i: int, inner: Any, **extra: Any) -> None:
        self.id = i
        self.when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)
        self.inner = inner
        self.__dict__.update(extra)

    def get_label(self) -> str:
        return f"<{self.id}>"


def test_fast_list_serializer_writes_what_drf_writes():
    rows = [
        _Obj(1, _Obj(9, None, name="内")),
        _Obj(2, None),  # a missing nested object, and inner.name through None
        _Obj(3, _Obj(8, None, name="x"), maybe="here"),  # an optional attribute present
    ]
    context = {"offset": 10}
    fast = _Row(rows, many=True, context=context).data
    assert isinstance(_Row(many=True), FastListSerializer)
    slow = serializers.ListSerializer(child=_Row(), instance=rows, context=context).data
    assert fast == slow
    assert "maybe" not in fast[0] and fast[2]["maybe"] == "here"
    assert fast[1]["inner"] is None and fast[1]["inner_name"] is None
