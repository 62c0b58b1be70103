"""Fewer writes per outbox row and HOT updates of the clocks (issue 10, the deadline sweep).

- supervision_notification: each index serves a named query and leaves out the rows that query
  never reads: the inbox by recipient (rows with a recipient only), the inbox by audience (rows
  with an audience only), the ON CONFLICT arbiter of the sweep and the digests (rows with a
  dedupe key only); the index on case_id, which no query uses, is dropped.
- supervision_deadline: fillfactor 80, so the sweep's update of a clock's warning level and
  escalation step (no indexed column) finds room on the same page and is a heap-only (HOT)
  update: no entry in any of the table's indexes. Applies to pages written from now on (a
  VACUUM FULL or pg_repack rewrites the existing ones).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _alter(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":  # the embedded SQLite default has none
        schema_editor.execute(sql)


def deadline_fillfactor(apps, schema_editor) -> None:
    _alter(schema_editor, "ALTER TABLE supervision_deadline SET (fillfactor = 80)")


def deadline_fillfactor_reset(apps, schema_editor) -> None:
    _alter(schema_editor, "ALTER TABLE supervision_deadline RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("clocks", "0002_duties_and_windows"),
        ("core", "0003_tokenactivity_piiaccesslog_case"),
        ("petitions", "0007_filelookup_historicalpetitioner_center_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(deadline_fillfactor, deadline_fillfactor_reset, elidable=True),
        migrations.RemoveConstraint(
            model_name="notification",
            name="notification_unique_dedupe_key",
        ),
        migrations.RemoveIndex(
            model_name="notification",
            name="notification_recipient_idx",
        ),
        migrations.RemoveIndex(
            model_name="notification",
            name="notification_audience_idx",
        ),
        migrations.AlterField(
            model_name="notification",
            name="case",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="petitions.case",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("recipient__isnull", False)),
                fields=["recipient", "-created_at"],
                name="notif_inbox_recipient_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("audience_center__isnull", False)),
                fields=["audience_center", "audience_role", "audience_department", "-created_at"],
                name="notif_inbox_audience_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("dedupe_key__isnull", False)),
                fields=("dedupe_key",),
                name="notif_dedupe_on_conflict_uniq",
            ),
        ),
    ]
