"""Admin of the messages to the petitioner: the templates' texts (data, edited by an
administrator; only the placeholders of the kind are accepted) and a read-only view of the
outbox (masked text and number only: the encrypted text is never shown)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from .models import Message, MessageTemplate
from .services.messages import PLACEHOLDERS, template_fields


def _braced(names: Iterable[str]) -> str:
    return "、".join("{" + name + "}" for name in names)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["kind", "body", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind") or getattr(self.instance, "kind", "")
        body = data.get("body")
        if not body or not kind:
            return data
        try:
            names = template_fields(body)
        except ValueError:
            self.add_error(
                "body",
                _("A brace is not closed: write placeholders as {name}, and a brace as {{ or }}."),
            )
            return data
        allowed = PLACEHOLDERS.get(kind, ())
        unknown = sorted({name for name in names if name not in allowed})
        if unknown:
            self.add_error(
                "body",
                _("Unknown placeholder(s): %(unknown)s. This kind may use: %(allowed)s.")
                % {
                    "unknown": _braced(unknown),
                    "allowed": _braced(allowed),
                },
            )
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SimpleHistoryAdmin):
    form = MessageTemplateForm
    list_display = ["kind", "body", "is_active"]
    list_filter = ["is_active"]

    @admin.display(description=gettext_lazy("placeholders"))
    def placeholders(self, obj: MessageTemplate | None) -> str:
        if obj is None or not obj.kind:
            return ""
        return _braced(PLACEHOLDERS.get(obj.kind, ()))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The kind is what the code asks for: fixed once the template exists.
        return ["kind", "placeholders"] if obj is not None else ["placeholders"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # switch a template off (active) instead: the code asks for each kind


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: messages are written by outreach.services.messages and sent by the worker."""

    list_display = ["created_at", "kind", "case", "phone_masked", "state", "attempts", "sent_at"]
    list_filter = ["kind", "state"]
    search_fields = ["case__number"]
    fields = readonly_fields = (
        "case",
        "kind",
        "body_masked",
        "phone_masked",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "created_at",
    )
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
