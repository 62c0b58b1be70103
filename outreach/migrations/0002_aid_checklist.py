"""The default eligibility checklist and cap rule of judicial aid (outreach.defaults_aid)."""

from django.db import migrations

from outreach.defaults_aid import seed_aid_defaults


class Migration(migrations.Migration):
    dependencies = [("outreach", "0001_initial")]

    operations = [migrations.RunPython(seed_aid_defaults, migrations.RunPython.noop)]
