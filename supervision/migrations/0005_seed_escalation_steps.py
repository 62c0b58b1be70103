from django.db import migrations

# step, role, days after the clock went overdue
DEFAULT_STEPS = [(1, "head", 0), (2, "supervisor", 2), (3, "leader", 5)]


def seed(apps, schema_editor):
    EscalationStep = apps.get_model("supervision", "EscalationStep")
    for step, role, after_days in DEFAULT_STEPS:
        EscalationStep.objects.get_or_create(step=step, defaults={"role": role, "after_days": after_days})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0004_escalationstep_bulletin_consultation_and_more")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
