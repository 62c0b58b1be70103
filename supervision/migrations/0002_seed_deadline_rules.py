"""National default deadline rules (DOMAIN.md §5). Provinces add their own rows in the admin."""

from django.db import migrations

ARTICLE = "《信访工作条例》"
# kind, length, day type, basis, max extension days
NATIONAL_DEFAULTS = [
    ("screening", 15, "calendar", f"{ARTICLE}第二十二条", 0),
    ("objection", 5, "working", f"{ARTICLE}第二十三条", 0),
    ("acceptance_notice", 15, "calendar", f"{ARTICLE}第二十三条", 0),
    ("handling", 60, "calendar", f"{ARTICLE}第三十四条", 30),
    ("review_request", 30, "calendar", f"{ARTICLE}第三十五条", 0),
    ("review_decision", 30, "calendar", f"{ARTICLE}第三十五条、第三十六条", 0),
    # The supervisor sets the time limit on each order; this is only the default offered.
    ("supervision_order", 15, "calendar", "督办机关确定（默认期限）", 0),
]


def seed(apps, schema_editor):
    DeadlineRule = apps.get_model("supervision", "DeadlineRule")
    for kind, length, day_type, basis, max_extension in NATIONAL_DEFAULTS:
        # get_or_create: an administrator's later edit of a default survives a re-run.
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


def unseed(apps, schema_editor):
    DeadlineRule = apps.get_model("supervision", "DeadlineRule")
    DeadlineRule.objects.filter(
        province_region_code="", kind__in=[row[0] for row in NATIONAL_DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
