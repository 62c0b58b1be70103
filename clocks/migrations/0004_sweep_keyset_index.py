"""The sweep's claim index on (due_at, id) of the open clocks (issue 10): each batch goes on from
where the previous one stopped (keyset), so a run of N batches reads each open clock once instead
of rescanning the clocks earlier batches changed. Same name and predicate (met_at IS NULL); it
still serves the dashboard's at-risk range scan on due_at."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clocks", "0003_outbox_indexes_by_query"),
        ("petitions", "0007_filelookup_historicalpetitioner_center_and_more"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="deadline",
            name="deadline_open_due_idx",
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("met_at__isnull", True)),
                fields=["due_at", "id"],
                name="deadline_open_due_idx",
            ),
        ),
    ]
