"""Kept counts of cases per (center, state) for the triage tabs (issue 21 §1).

Statement-level triggers on petitions_case (transition tables, so a bulk statement costs one
aggregate, not one call per row) append ``(center_id, state, ±n)`` rows to
petitions_casestatecount in the writing transaction: the count is right at commit whatever wrote
the case (services, the admin, a data migration, a test fixture). A fill that disables triggers
(demo.cases loads with ``session_replication_role = replica``) calls ``recount_case_states``
afterwards (the ``recount_counters`` command does both apps).

Delta rows rather than one row per key updated in place: two transactions at one center never
wait on each other's counter row, so there is no lock order to get wrong between the several
statements of one transaction (no deadlock) and registrations are not serialised by it.
``compact_case_state_counts`` folds the rows (one statement: it deletes the rows its snapshot
sees and inserts their sums, so rows written meanwhile are kept; safe to run concurrently); the
beat runs it with the dashboard's (supervision.tasks.compact_kept_counters).
"""

from __future__ import annotations

from django.db import connection, transaction

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION petitions_case_state_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO petitions_casestatecount (center_id, state, cases)
        SELECT center_id, state, count(*) FROM kc_new GROUP BY 1, 2;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO petitions_casestatecount (center_id, state, cases)
        SELECT center_id, state, -count(*) FROM kc_old GROUP BY 1, 2;
    ELSE
        -- only rows whose center or state changed (most updates bump other columns)
        INSERT INTO petitions_casestatecount (center_id, state, cases)
        SELECT center_id, state, sum(n) FROM (
            SELECT n.center_id, n.state, 1 AS n
              FROM kc_new n JOIN kc_old o ON o.id = n.id
             WHERE o.state IS DISTINCT FROM n.state OR o.center_id IS DISTINCT FROM n.center_id
            UNION ALL
            SELECT o.center_id, o.state, -1
              FROM kc_new n JOIN kc_old o ON o.id = n.id
             WHERE o.state IS DISTINCT FROM n.state OR o.center_id IS DISTINCT FROM n.center_id
        ) d GROUP BY 1, 2 HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS case_state_count_ins ON petitions_case;
DROP TRIGGER IF EXISTS case_state_count_upd ON petitions_case;
DROP TRIGGER IF EXISTS case_state_count_del ON petitions_case;
CREATE TRIGGER case_state_count_ins AFTER INSERT ON petitions_case
    REFERENCING NEW TABLE AS kc_new FOR EACH STATEMENT EXECUTE FUNCTION petitions_case_state_count();
CREATE TRIGGER case_state_count_upd AFTER UPDATE ON petitions_case
    REFERENCING OLD TABLE AS kc_old NEW TABLE AS kc_new
    FOR EACH STATEMENT EXECUTE FUNCTION petitions_case_state_count();
CREATE TRIGGER case_state_count_del AFTER DELETE ON petitions_case
    REFERENCING OLD TABLE AS kc_old FOR EACH STATEMENT EXECUTE FUNCTION petitions_case_state_count();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS case_state_count_ins ON petitions_case;
DROP TRIGGER IF EXISTS case_state_count_upd ON petitions_case;
DROP TRIGGER IF EXISTS case_state_count_del ON petitions_case;
DROP FUNCTION IF EXISTS petitions_case_state_count();
"""

RECOUNT_SQL = """
DELETE FROM petitions_casestatecount;
INSERT INTO petitions_casestatecount (center_id, state, cases)
SELECT center_id, state, count(*) FROM petitions_case GROUP BY 1, 2;
"""

COMPACT_SQL = """
WITH gone AS (DELETE FROM petitions_casestatecount RETURNING center_id, state, cases)
INSERT INTO petitions_casestatecount (center_id, state, cases)
SELECT center_id, state, sum(cases) FROM gone GROUP BY 1, 2 HAVING sum(cases) <> 0
"""


def recount_case_states() -> None:
    """Rebuild the kept counts from the cases (set-based: one GROUP BY). Takes a share lock on
    the cases so no state change slips between the delete and the insert."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE petitions_case IN SHARE MODE")
        cursor.execute(RECOUNT_SQL)


def compact_case_state_counts() -> None:
    with connection.cursor() as cursor:
        cursor.execute(COMPACT_SQL)
