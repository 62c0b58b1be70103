"""Indexes for the sweep (排查, campaigns.sweep), on the tables it reads: petitions' cases and
visits and appeals' final matters. Raw SQL because the tables belong to other apps (their models
do not declare these indexes; campaigns sits above them and only reads). Measured at 1,000,000
cases: bench/bench_campaigns.py, docs/performance.md."""

from django.db import migrations

INDEXES = [
    # sweep: a narrow copy of the case columns every criterion and the final scope/order/count
    # read (id, center, registration, petitioner, closure, state, number), so that the joins
    # run on index-only scans instead of fetching 500-byte case rows at random
    (
        "case_sweep_idx",
        "petitions_case (id) INCLUDE "
        "(center_id, registered_at, main_petitioner_id, closed_at, state, number)",
    ),
    # sweep repeat_after_closure / final_returning: repeat visits on a case after a moment (only
    # repeat visits can come after a closure: a case's first visit is its registration)
    ("visit_repeat_case_at_idx", "petitions_visit (case_id, at) WHERE is_repeat"),
    # sweep final_returning: each final matter's case and since when, index-only
    ("finality_case_final_idx", "appeals_finality (case_id) INCLUDE (final_at)"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_default_score_sheet"),
        ("petitions", "0009_outreach_fields"),
        ("appeals", "0002_review_forwarded_upward"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
