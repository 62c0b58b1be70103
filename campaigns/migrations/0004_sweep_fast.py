"""A partial index for the sweep's open_days_over (campaigns.sweep): the open cases in
registration order, so that "open, registered more than N days ago, oldest first, the first
5,001" reads those cases only (about a tenth of the table, ~3 MB at 1,000,000 cases) instead of
the whole registration index. Only a state change into or out of the open states touches it
(``state`` is indexed already, so no update loses HOT for it). Raw SQL like 0003 (the table is
petitions'). The predicate must stay the sweep's list (OPEN_STATES below,
``sorted(CaseState.open_states())``), or PostgreSQL cannot use it: a test checks it
(campaigns/tests/test_sweep.py)."""

from django.db import migrations

# sorted(petitions.states.CaseState.open_states()), as the sweep writes its condition
OPEN_STATES = [
    "assigned",
    "handling",
    "re_review",
    "registered",
    "replied",
    "returned",
    "review",
    "signed",
]
STATES_SQL = ", ".join(f"'{s}'" for s in OPEN_STATES)

INDEXES = [
    # sweep open_days_over: open cases, oldest registration first (the sweep's order)
    (
        "case_sweep_open_reg_idx",
        f"petitions_case (registered_at, id) WHERE state IN ({STATES_SQL})",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_sweep_indexes")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
