"""Default code tables (DOMAIN.md §3). Seeded by a data migration; administrators edit them after."""

from __future__ import annotations

from typing import Any

CHANNELS = [("visit", "来访"), ("letter", "来信"), ("online", "网上信访"), ("phone", "电话")]
PURPOSES = [
    ("demand", "求决"),
    ("appeal", "申诉"),
    ("accusation", "检举控告"),
    ("suggestion", "建议"),
    ("enquiry", "咨询"),
]
ORGANS = [
    ("police", "公安机关", "police"),
    ("procuratorate", "检察机关", "procuratorate"),
    ("court", "审判机关", "court"),
    ("justice", "司法行政机关", "justice"),
    ("other", "其他政法单位", "other"),
]
# (code, name, children)
CATEGORIES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "police",
        "公安类",
        [
            ("police.case", "不立案、立案不查"),
            ("police.law", "执法不规范"),
            ("police.detention", "违法羁押"),
            ("police.traffic", "交通事故处理"),
            ("police.household", "户籍管理"),
        ],
    ),
    (
        "procuratorate",
        "检察类",
        [
            ("proc.noprosecute", "不起诉决定"),
            ("proc.supervision", "立案监督"),
            ("proc.civil", "民事行政检察监督"),
            ("proc.compensation", "刑事赔偿"),
        ],
    ),
    (
        "court",
        "法院类",
        [
            ("court.criminal", "刑事裁判"),
            ("court.civil", "民商事裁判"),
            ("court.admin", "行政裁判"),
            ("court.execution", "执行难、执行不当"),
            ("court.delay", "审判拖延"),
        ],
    ),
    (
        "justice",
        "司法行政类",
        [
            ("justice.lawyer", "律师执业"),
            ("justice.notary", "公证"),
            ("justice.mediation", "人民调解"),
            ("justice.legalaid", "法律援助"),
            ("justice.prison", "监狱、戒毒管理"),
        ],
    ),
    ("other", "其他", [("other.other", "其他涉法涉诉事项")]),
]


def seed_code_tables(apps: Any = None) -> None:
    """Idempotent: existing rows keep the administrator's edits (only missing codes are added)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Channel = apps.get_model("petitions", "Channel")
    Purpose = apps.get_model("petitions", "Purpose")
    Organ = apps.get_model("petitions", "Organ")
    ContentCategory = apps.get_model("petitions", "ContentCategory")
    for i, (code, name) in enumerate(CHANNELS):
        Channel.objects.get_or_create(code=code, defaults={"name": name, "sort_order": i})
    for i, (code, name) in enumerate(PURPOSES):
        Purpose.objects.get_or_create(code=code, defaults={"name": name, "sort_order": i})
    for i, (code, name, kind) in enumerate(ORGANS):
        Organ.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": i, "department_kind": kind}
        )
    for i, (code, name, children) in enumerate(CATEGORIES):
        parent, _ = ContentCategory.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": i}
        )
        for j, (child_code, child_name) in enumerate(children):
            ContentCategory.objects.get_or_create(
                code=child_code, defaults={"name": child_name, "sort_order": j, "parent": parent}
            )
