"""Judicial aid reference data: the default eligibility checklist and the example cap rule.

Seeded by migration 0002; ``ensure_aid_defaults`` puts it back after a test flush (the root
conftest's ``reference_data``).

The checklist follows the 2014 《关于建立完善国家司法救助制度的意见（试行）》 (中央政法委等六部门):
part 二 lists who is to be aided, part 三 (the cases in which no aid is given) gives the last
items. An administrator edits, reorders or deactivates items in the admin; answers already given
keep pointing at their question.

The cap rule is an EXAMPLE: 河北 (region code 130000), the year it is seeded, 36 months of an
average monthly wage of 7,000.00 yuan. The wage figure is NOT an official statistic: the
administrator enters the province's published average monthly wage of the previous year
(上一年度职工月平均工资) in the admin (司法救助限额) before the first decision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps as global_apps
from django.utils import timezone

# (sort order, question), in the order the checklist is printed.
DEFAULT_QUESTIONS = [
    (
        10,
        "刑事案件被害人受到犯罪侵害，致使重伤或严重残疾，因案件无法侦破或者被告人没有赔偿能力，"
        "造成生活困难的",
    ),
    (
        20,
        "刑事案件被害人受到犯罪侵害危及生命，急需救治，无力承担医疗救治费用的",
    ),
    (
        30,
        "刑事案件被害人受到犯罪侵害而死亡，因案件无法侦破或者被告人没有赔偿能力，"
        "其近亲属或者其赡养、扶养、抚养的人生活困难的",
    ),
    (
        40,
        "举报人、证人、鉴定人因举报、作证、鉴定受到打击报复，致使人身受到伤害或财产受到重大损失，"
        "无法获得赔偿，造成生活困难的",
    ),
    (
        50,
        "追索赡养费、扶养费、抚育费等，因被执行人没有履行能力，造成申请执行人生活困难的",
    ),
    (
        60,
        "因道路交通事故等民事侵权行为造成人身伤害，无法通过诉讼获得赔偿，造成生活困难的",
    ),
    (
        70,
        "申请人未通过诉讼或其他途径获得赔偿、补偿",
    ),
    (
        80,
        "申请人未获得社会救助或其他救助，或已获救助不足以解决其生活困难",
    ),
]

# The example rule (see the module docstring): the administrator replaces the wage figure.
EXAMPLE_PROVINCE = "130000"  # 河北省
EXAMPLE_AVERAGE_MONTHLY_WAGE = Decimal("7000.00")
EXAMPLE_MONTHS = 36
EXAMPLE_LEADER_THRESHOLD = Decimal("50000.00")


def seed_aid_defaults(apps: Any = global_apps, schema_editor: Any = None) -> None:
    """Add the default checklist and cap rule where missing."""
    Question = apps.get_model("outreach", "EligibilityQuestion")
    CapRule = apps.get_model("outreach", "AidCapRule")
    for sort_order, text in DEFAULT_QUESTIONS:
        Question.objects.get_or_create(text=text, defaults={"sort_order": sort_order})
    CapRule.objects.get_or_create(
        province_region_code=EXAMPLE_PROVINCE,
        year=timezone.localdate().year,
        defaults={
            "average_monthly_wage": EXAMPLE_AVERAGE_MONTHLY_WAGE,
            "months": EXAMPLE_MONTHS,
            "leader_threshold": EXAMPLE_LEADER_THRESHOLD,
        },
    )


def ensure_aid_defaults() -> None:
    seed_aid_defaults()
