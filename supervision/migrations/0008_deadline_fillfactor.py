from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE supervision_deadline SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE supervision_deadline RESET (fillfactor)")


class Migration(migrations.Migration):
    """The sweep rewrites warning_level / overdue_since / escalation_step, none of them indexed:
    with free space on each page PostgreSQL updates in place (HOT) without touching the table's
    indexes. (PostgreSQL only; the embedded SQLite default has no such setting.)"""

    dependencies = [("supervision", "0007_notification_outbox_no_fk_checks")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
