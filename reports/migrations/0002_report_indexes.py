"""Indexes for the report queries, on tables of the apps below (reports owns the queries, so it
owns their indexes; ``IF NOT EXISTS`` so a later app migration adding the same index is harmless).
Each comment names the query it serves (reports.indicators / reports.selectors)."""

from django.db import migrations

INDEXES = [
    # clock_figures(): acceptance/handling clocks met in the period
    # (WHERE kind IN (...) AND met_at BETWEEN ...)
    ("reports_deadline_kind_met_idx", "supervision_deadline", "(kind, met_at)", ""),
    # clock_figures() late branch and overdue counts: clocks of a kind falling due in the period
    ("reports_deadline_kind_due_idx", "supervision_deadline", "(kind, due_at)", ""),
    # closing_figures(): cases closed in the period (first-time resolution, cessation, trend)
    ("reports_case_closed_idx", "petitions_case", "(closed_at)", "WHERE closed_at IS NOT NULL"),
    # visit_figures(): visits in the period across a center subtree (WHERE at BETWEEN ...)
    ("reports_visit_at_idx", "petitions_visit", "(at)", ""),
    # other_counts(): transfers made in the period
    ("reports_transfer_at_idx", "routing_transfer", "(transferred_at)", ""),
    # other_counts() / bulletin: supervision orders issued in the period
    ("reports_order_issued_idx", "supervision_supervisionorder", "(issued_at)", ""),
    # terminated_q(), REVIEW_EVENT_KINDS: does the case have an event of these kinds
    ("reports_caseevent_case_kind_idx", "petitions_caseevent", "(case_id, kind)", ""),
    # league table / staff record: lead assignments assigned or accepted in the period
    ("reports_assignment_lead_assigned_idx", "routing_assignment", "(assigned_at)",
     "WHERE role = 'lead'"),
    ("reports_assignment_lead_handler_idx", "routing_assignment", "(handler_id, accepted_at)",
     "WHERE role = 'lead'"),
]


def forwards_sql():
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} {cols} {where};"
        for name, table, cols, where in INDEXES
    ]


def backwards_sql():
    return [f"DROP INDEX IF EXISTS {name};" for name, *_ in INDEXES]


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("petitions", "0006_case_list_indexes"),
        ("routing", "0002_progressnote_routingrule_writtennotice"),
        ("supervision", "0010_clock_engine_moved_to_clocks"),
    ]

    operations = [
        migrations.RunSQL(sql=forwards_sql(), reverse_sql=backwards_sql()),
    ]
