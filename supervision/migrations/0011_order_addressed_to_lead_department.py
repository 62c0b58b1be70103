"""Orders issued without a department (then shown as "to whoever holds the case") name the lead
department that held the case when they were issued, as new orders do
(supervision.services.orders.issue_supervision_order). The lead at issue time: the latest lead
assignment made at or before the order and not returned before it. Their clocks stay as they
were (case-level); only the addressee is filled in. A backfill of a display field: written with
update(), no history rows."""

from django.db import migrations
from django.db.models import OuterRef, Q, Subquery


def name_the_lead_department(apps, schema_editor):
    SupervisionOrder = apps.get_model("supervision", "SupervisionOrder")
    Assignment = apps.get_model("routing", "Assignment")
    lead_then = (
        Assignment.objects.filter(
            case_id=OuterRef("case_id"), role="lead", assigned_at__lte=OuterRef("issued_at")
        )
        .filter(Q(returned_at__isnull=True) | Q(returned_at__gt=OuterRef("issued_at")))
        .order_by("-assigned_at", "-id")
        .values("department_id")[:1]
    )
    SupervisionOrder.objects.filter(department__isnull=True).update(
        department_id=Subquery(lead_then)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0010_clock_engine_moved_to_clocks"),
        ("routing", "0002_progressnote_routingrule_writtennotice"),
    ]

    operations = [migrations.RunPython(name_the_lead_department, migrations.RunPython.noop)]
