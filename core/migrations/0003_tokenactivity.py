import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("core", "0002_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenActivity",
            fields=[
                (
                    "token",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="activity",
                        serialize=False,
                        to="authtoken.token",
                    ),
                ),
                ("last_used_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "API token activity",
                "verbose_name_plural": "API token activity",
            },
        ),
    ]
