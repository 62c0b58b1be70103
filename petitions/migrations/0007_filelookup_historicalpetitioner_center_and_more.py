import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Length

BATCH = 2000


def backfill(apps, schema_editor):
    """Name search keys for existing files (simplified characters, core.text.name_key); and
    the blind index of any resident ID stored in its 15-digit form recomputed on the 18-digit
    form (none are expected: 15 digits were refused before this migration)."""
    from core import pii
    from core.text import name_key

    Petitioner = apps.get_model("petitions", "Petitioner")
    batch = []
    for p in Petitioner.objects.only("pk", "name").order_by("pk").iterator(chunk_size=BATCH):
        p.name_key = name_key(p.name)
        batch.append(p)
        if len(batch) >= BATCH:
            Petitioner.objects.bulk_update(batch, ["name_key"])
            batch = []
    if batch:
        Petitioner.objects.bulk_update(batch, ["name_key"])

    # The masked copy keeps the typed length, so the 15-digit forms are found without
    # decrypting every file.
    legacy = (
        Petitioner.objects.filter(id_type="resident")
        .exclude(id_number_hash="")
        .annotate(masked_length=Length("id_number_masked"))
        .filter(masked_length=15)
    )
    for p in legacy.iterator():
        number = pii.decrypt(p.id_number_enc)
        if number:
            Petitioner.objects.filter(pk=p.pk).update(
                id_number_hash=pii.id_number_index(number, "resident")
            )


class Migration(migrations.Migration):
    """Name search keys (traditional = simplified), 15-digit resident IDs indexed on their
    18-character form, and the desk's exact lookups. (Named so because closure.0001_initial was
    generated against this name; it follows the holding-center migration.)"""

    dependencies = [
        ("petitions", "0007_petitioner_holding_center"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="petitioner",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=50),
        ),
        migrations.AddField(
            model_name="historicalpetitioner",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=50),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="petitioner",
            index=models.Index(
                fields=["name_key"],
                name="petitioner_namekey_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.CreateModel(
            name="FileLookup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "how",
                    models.CharField(
                        choices=[
                            ("id_number", "ID number"),
                            ("name_phone", "Name and phone number"),
                            ("registered", "Registration of the person"),
                        ],
                        max_length=20,
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True)),
                (
                    "petitioner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="petitions.petitioner",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "file lookup",
                "verbose_name_plural": "file lookups",
                "indexes": [
                    models.Index(
                        fields=["user", "petitioner", "at"], name="filelookup_user_person_at"
                    )
                ],
            },
        ),
    ]
