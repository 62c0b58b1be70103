"""The clock engine's models moved to the ``clocks`` app (clocks/migrations/0001). State only: the
tables keep their names, so nothing in the database changes except the content types, which are
renamed so that admin permissions and log entries follow the models."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = [
    "calendaryear",
    "deadline",
    "deadlinerule",
    "escalationstep",
    "historicaldeadline",
    "holiday",
    "notification",
    "notificationread",
]


def _rename(apps, from_label: str, to_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label=to_label, model__in=MOVED).values_list(
            "model", flat=True
        )
    )
    ContentType.objects.filter(app_label=from_label, model__in=set(MOVED) - taken).update(
        app_label=to_label
    )


def forwards(apps, schema_editor):
    _rename(apps, "supervision", "clocks")


def backwards(apps, schema_editor):
    _rename(apps, "clocks", "supervision")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("clocks", "0001_initial"),
        ("supervision", "0009_per_user_notification_reads"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="extensionrequest",
                    name="deadline",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="extension_requests",
                        to="clocks.deadline",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalextensionrequest",
                    name="deadline",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="clocks.deadline",
                    ),
                ),
                migrations.DeleteModel(name="HistoricalDeadline"),
                migrations.DeleteModel(name="NotificationRead"),
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="Deadline"),
                migrations.DeleteModel(name="DeadlineRule"),
                migrations.DeleteModel(name="EscalationStep"),
                migrations.DeleteModel(name="Holiday"),
                migrations.DeleteModel(name="CalendarYear"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
