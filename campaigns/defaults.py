"""The default score sheet (涉法涉诉信访案件评查评分表): centerless, six sections, 100 points.

Bands: 优秀 from 90 points, 合格 from 60, below that 不合格 (the sheet's excellent_from and
pass_from). A center copies it to keep its own (campaigns.services.copy_score_sheet); this row is
the one every center starts from. Criteria follow the 信访工作条例 (Arts 22, 32-36) and the
joint reception centers' handling rules. Seeded by migration 0002; tests whose flush removed it
put it back with ``ensure_default_score_sheet`` (the root conftest's ``reference_data``).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

DEFAULT_SHEET_NAME = "涉法涉诉信访案件评查评分表"

# (section, criterion, points), in the order the sheet is printed; the points total 100.
DEFAULT_ITEMS = [
    ("facts", "信访人诉求、事实和理由登记完整准确，主要诉求无遗漏", 8),
    ("facts", "调查核实深入，关键事实有证据支持，证据来源合法、相互印证", 10),
    ("facts", "对信访人提交的材料逐项核查，核查情况有记录", 5),
    ("law", "适用法律、法规、政策准确，引用条款具体", 10),
    ("law", "处理意见与认定的事实相符，定性准确，处理适当", 8),
    ("procedure", "按规定受理、告知，依法分流，涉诉事项导入法律程序", 6),
    ("procedure", "交办、签收、办理、审核各环节手续完备，流转有据可查", 6),
    ("procedure", "需听证、会商或领导包案的，按规定组织并有记录", 5),
    ("documents", "答复意见书等文书格式规范，要素齐全，文号、印章完备", 6),
    ("documents", "文书说理充分，语言规范，逐项回应信访人诉求", 6),
    ("documents", "案卷材料齐全，按规定立卷归档", 3),
    ("reply", "书面答复按规定送达信访人，送达有回证", 5),
    ("reply", "告知复查、复核的途径和期限", 4),
    ("reply", "按规定开展回访和满意度评价，信访人意见有记录并作处理", 6),
    ("time_limits", "在规定期限内受理、告知（15日内）", 4),
    ("time_limits", "在规定期限内办结（60日内，延期经批准并告知）", 6),
    ("time_limits", "签收、回复、督办事项按时完成，无超期", 2),
]


def add_default_sheet(apps: Any = global_apps, schema_editor: Any = None) -> None:
    ScoreSheet = apps.get_model("campaigns", "ScoreSheet")
    ScoreItem = apps.get_model("campaigns", "ScoreItem")
    if ScoreSheet.objects.filter(center__isnull=True, name=DEFAULT_SHEET_NAME).exists():
        return
    sheet = ScoreSheet.objects.create(
        name=DEFAULT_SHEET_NAME, center=None, is_active=True, excellent_from=90, pass_from=60
    )
    ScoreItem.objects.bulk_create(
        ScoreItem(sheet=sheet, section=section, criterion=criterion, points=points, sort_order=n)
        for n, (section, criterion, points) in enumerate(DEFAULT_ITEMS, start=1)
    )


def ensure_default_score_sheet() -> None:
    add_default_sheet()
