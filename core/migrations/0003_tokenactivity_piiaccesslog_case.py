import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A reveal of a full number names the case through which the user saw the person.

    (Named so because closure.0001_initial was generated against this name; it follows the
    token activity migration.)"""

    dependencies = [
        ("core", "0003_tokenactivity"),
        ("petitions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="piiaccesslog",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="petitions.case",
            ),
        ),
    ]
