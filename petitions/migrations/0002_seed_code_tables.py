from django.db import migrations


def seed(apps, schema_editor):
    from petitions.defaults import seed_code_tables

    seed_code_tables(apps)


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
