"""The default score sheet (涉法涉诉信访案件评查评分表): campaigns.defaults holds its items."""

from django.db import migrations

from campaigns.defaults import DEFAULT_SHEET_NAME, add_default_sheet


def remove_default_sheet(apps, schema_editor):
    ScoreSheet = apps.get_model("campaigns", "ScoreSheet")
    ScoreSheet.objects.filter(center__isnull=True, name=DEFAULT_SHEET_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(add_default_sheet, remove_default_sheet)]
