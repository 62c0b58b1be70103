"""The default texts of the messages to the petitioner (outreach.defaults_messages)."""

from django.db import migrations

from outreach.defaults_messages import seed_message_templates


class Migration(migrations.Migration):
    dependencies = [("outreach", "0002_aid_checklist")]

    operations = [migrations.RunPython(seed_message_templates, migrations.RunPython.noop)]
