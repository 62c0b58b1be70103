"""The national default deadline rules and escalation steps (DOMAIN.md §5), as data.

Migrations seeded these; ``core.reference_data`` puts them back after a test flushed the tables.
An administrator's edits win: seeding only adds rows that are missing."""

from __future__ import annotations

ARTICLE = "《信访工作条例》"
# kind, length, day type, basis, max extension days
NATIONAL_DEFAULTS: list[tuple[str, int, str, str, int]] = [
    ("screening", 15, "calendar", f"{ARTICLE}第二十二条", 0),
    ("objection", 5, "working", f"{ARTICLE}第二十三条", 0),
    ("acceptance_notice", 15, "calendar", f"{ARTICLE}第二十三条", 0),
    ("handling", 60, "calendar", f"{ARTICLE}第三十四条", 30),
    # review_request: the older name of the petitioner's window (review_window), kept for old rows
    ("review_request", 30, "calendar", f"{ARTICLE}第三十五条", 0),
    # the petitioner's window to ask for review or re-review, from delivery of the written answer
    ("review_window", 30, "calendar", f"{ARTICLE}第三十五条、第三十六条", 0),
    ("review_decision", 30, "calendar", f"{ARTICLE}第三十五条、第三十六条", 0),
    ("re_review_decision", 30, "calendar", f"{ARTICLE}第三十六条", 0),
    # The supervisor sets the time limit on each order; this is only the default offered.
    ("supervision_order", 15, "calendar", "督办机关确定（默认期限）", 0),
    # Judicial aid (关于建立完善国家司法救助制度的意见（试行）, 2014): decided within 10 working
    # days of a complete application; paid within 10 working days of the approval (defaults an
    # administrator may change per province).
    ("aid_decision", 10, "working", "《关于建立完善国家司法救助制度的意见（试行）》", 0),
    ("aid_payment", 10, "working", "《关于建立完善国家司法救助制度的意见（试行）》", 0),
]

# step, role, days after the clock went overdue
DEFAULT_STEPS: list[tuple[int, str, int]] = [(1, "head", 0), (2, "supervisor", 2), (3, "leader", 5)]


def seed_deadline_rules() -> None:
    from .models import DeadlineRule

    for kind, length, day_type, basis, max_extension in NATIONAL_DEFAULTS:
        DeadlineRule.objects.get_or_create(
            kind=kind,
            province_region_code="",
            defaults={
                "length": length,
                "day_type": day_type,
                "basis": basis,
                "max_extension_days": max_extension,
            },
        )


def seed_escalation_steps() -> None:
    from .models import EscalationStep

    for step, role, after_days in DEFAULT_STEPS:
        EscalationStep.objects.get_or_create(
            step=step, defaults={"role": role, "after_days": after_days}
        )
