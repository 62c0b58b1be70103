"""The default texts of the messages to the petitioner (Chinese, data: an administrator edits
them in the admin). Placeholders are ``{name}`` fields, the ones outreach.services.messages
.PLACEHOLDERS allows for the kind. Seeded by migration 0003; ``ensure_message_templates`` puts
them back after a test flush (the root conftest's ``reference_data``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

DEFAULT_MESSAGE_TEMPLATES: dict[str, str] = {
    "receipt": (
        "【联合接访中心】您反映的事项已登记，案件编号{case_number}，查询码{query_code}。"
        "请妥善保管查询码，可凭编号和查询码查询办理进展。"
    ),
    "assignment": (
        "【联合接访中心】您的案件{case_number}已交由{department}办理，办理期限至{due_date}。"
    ),
    "reply_ready": (
        "【联合接访中心】您的案件{case_number}已作出答复。"
        "请通过以下链接对办理情况进行评价：{evaluation_link}"
    ),
    "review_window": (
        "【联合接访中心】您的案件{case_number}申请复查的期限将于{last_day}届满，"
        "如对答复意见不服，请在此前提出复查申请。"
    ),
    "appointment": (
        "【联合接访中心】关于您的案件{case_number}，约请您于{time}到{place}面谈，"
        "如不能按时到达请提前联系。"
    ),
    "aid_result": "【联合接访中心】您就案件{case_number}提出的司法救助申请：{result}。",
}


def seed_message_templates(apps: Any = global_apps, schema_editor: Any = None) -> None:
    """Add the templates that are missing (an administrator's edits are kept)."""
    MessageTemplate = apps.get_model("outreach", "MessageTemplate")
    for kind, body in DEFAULT_MESSAGE_TEMPLATES.items():
        MessageTemplate.objects.get_or_create(kind=kind, defaults={"body": body})


def ensure_message_templates() -> None:
    seed_message_templates()
