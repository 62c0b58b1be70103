"""Kept counters of the supervisor dashboard (issue 21 §1).

The dashboard's unfiltered (or one-center) figures were counted from every at-risk clock of the
subtree on each view (supervision.selectors.dashboard_figures_live, 124 ms of PostgreSQL at a
million cases). They are now kept:

- ``supervision_atriskclock`` holds, per case, the at-risk clocks last counted (level, answering
  department and handler, center, law-related flag, due time);
- ``supervision_refresh_case_risk(case_ids)`` (one PL/pgSQL function, set-based) replaces those
  rows for the given cases from the live tables and appends the difference to
  ``supervision_dashboardcount`` as delta rows: +1/-1 per distinct case and (center, dimension,
  key, level), and ±clocks per overdue due time for the aging buckets;
- statement-level triggers (transition tables: one call per statement, not per row) call it in
  the writing transaction for the cases whose clocks (level, met, due time, assignment, kind),
  assignments (state, role, department, handler) or case row (state, center, law flag) changed.
  Triggers rather than calls from each service: clocks change in a dozen places (the sweep,
  extensions, the holiday schedule, appeals' windows, meet/open, test fixtures that update rows
  directly), and a missed call would drift silently; the database does not miss one.

Concurrency. Two transactions refreshing one case at once would each read the other's rows as
they were before (READ COMMITTED) and count it twice, so a refresh takes transaction-level
advisory locks on the cases' buckets (case id modulo LOCK_BUCKETS, so a sweep batch of 20,000
clocks holds at most 1,024 locks; the shared lock table is small), in bucket order; the next
statement reads with a new snapshot, after whoever held the bucket committed. The sweep holds its claimed clocks' row locks while its
trigger runs, and a service may hold a case's lock and wait for one of those clocks: so the sweep
only *tries* the case locks (``kept_counters.try_lock``, set by clocks.sweep) and leaves the cases
it cannot lock in ``supervision_riskrefreshpending`` for ``compact_kept_counters`` (every few
minutes, with the beat). The counters themselves are append-only: nobody waits on a counter row.

Reads sum the delta rows of the viewer's centers (one indexed query); ``compact_kept_counters``
folds them. ``recount_kept_counters`` rebuilds everything from scratch (after a fill with triggers
off, e.g. demo.cases; the ``recount_counters`` command). The live queries stay as the reference
(supervision.selectors.dashboard_figures_live) and the tests compare the two after random mixes
of services and sweeps, concurrent ones included (supervision/tests/test_dashboard_recount.py).

One difference from the live query, on purpose: the live query keeps only clocks due before the
sweep's look-ahead window (``due_at <= now + approaching + 1 day``), an index predicate. A stored
at-risk level is only ever set inside that window and the window only moves forward, so the kept
figures leave it out.
"""

from __future__ import annotations

from django.db import connection, transaction

from clocks.models import DUTY_KINDS, WarningLevel
from petitions.states import CaseState
from routing.models import ACTIVE_ASSIGNMENT_STATES, AssignmentRole

AT_RISK = (WarningLevel.OVERDUE, WarningLevel.SEVERE, WarningLevel.APPROACHING)
# Every function sets its own planner settings:
# - the sweep's transaction turns hash and merge joins off for its own statement (clocks.sweep);
#   the joins of transition tables need them (a nested loop over two 20,000-row transition tables
#   is 400 million comparisons); work_mem keeps a sweep batch's aggregation in memory;
# - generic plans, planned once per connection: a custom plan of the refresh's statement for each
#   call cost ~1 ms of planning per service call (measured: 1.2 ms of PostgreSQL CPU per state
#   change, 0.2 ms with generic plans, 0.06 ms without the triggers). The plans join unnest(ids)
#   to the case_id indexes, which suits one case and a sweep batch alike.
PLANNER = (
    "SET enable_hashjoin = on SET enable_mergejoin = on SET work_mem = '64MB' "
    "SET plan_cache_mode = force_generic_plan"
)
LOCK_BUCKETS = 1024
LOCK_CLASS = 2101  # advisory lock space of the kept counters (two-int form: its own key space)


def _array(values: object) -> str:
    # Only enum values known to this code (never user input) are inlined.
    items = sorted(str(v) for v in values)  # type: ignore[attr-defined]
    return "ARRAY[" + ", ".join(f"'{v}'" for v in items) + "]::text[]"


def refresh_function_sql() -> str:
    open_states = _array(CaseState.open_states())
    at_risk = _array(AT_RISK)
    duties = _array(DUTY_KINDS)
    active = _array(ACTIVE_ASSIGNMENT_STATES)
    return f"""
CREATE OR REPLACE FUNCTION supervision_refresh_case_risk(ids bigint[]) RETURNS void
LANGUAGE plpgsql {PLANNER} AS $$
DECLARE
    try_only boolean := coalesce(current_setting('kept_counters.try_lock', true), '') = 'on';
    mine bigint[];
    got bigint[];
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- The lock is per bucket of cases (case id modulo LOCK_BUCKETS), so a 20,000-clock sweep
    -- batch takes at most that many locks (the shared lock table is small), in bucket order.
    IF try_only THEN
        SELECT array_agg(b) INTO got FROM (
            SELECT DISTINCT i % {LOCK_BUCKETS} AS b FROM unnest(ids) i ORDER BY 1) s
         WHERE pg_try_advisory_xact_lock({LOCK_CLASS}, b::int);
        SELECT array_agg(i) INTO mine FROM unnest(ids) i
          JOIN unnest(coalesce(got, '{{}}')) g ON g = i % {LOCK_BUCKETS};
        INSERT INTO supervision_riskrefreshpending (case_id)
        SELECT DISTINCT i FROM unnest(ids) i
          LEFT JOIN unnest(coalesce(got, '{{}}')) g ON g = i % {LOCK_BUCKETS}
         WHERE g IS NULL;
    ELSE
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, b::int)
           FROM (SELECT DISTINCT i % {LOCK_BUCKETS} AS b FROM unnest(ids) i ORDER BY 1) s;
        mine := ids;
    END IF;
    IF mine IS NULL OR cardinality(mine) = 0 THEN
        RETURN;
    END IF;
    -- Joined to unnest(...) rather than "= ANY(array)": the planner then walks the case_id
    -- indexes for a handful of cases (a service) as for a sweep batch, where "= ANY" of a
    -- parameter array took a sequential scan of the clocks (8 ms a call at 100,000 clocks).
    SELECT array_agg(DISTINCT i) INTO mine FROM unnest(mine) i;
    WITH old AS (
        DELETE FROM supervision_atriskclock r USING unnest(mine) m(id) WHERE r.case_id = m.id
        RETURNING r.case_id, r.center_id, r.department_id, r.handler_id, r.level,
                  r.is_law_related, r.due_at
    ), new AS (
        INSERT INTO supervision_atriskclock
               (deadline_id, case_id, center_id, department_id, handler_id, level,
                is_law_related, due_at)
        SELECT d.id, d.case_id, c.center_id, coalesce(a.department_id, 0),
               coalesce(a.handler_id, 0), d.warning_level, c.is_law_related, d.due_at
          FROM unnest(mine) m(id)
          JOIN supervision_deadline d ON d.case_id = m.id
          JOIN petitions_case c ON c.id = d.case_id AND c.state = ANY({open_states})
          -- who answers: the clock's own assignment, else the case's active lead (at most one,
          -- assignment_one_active_lead), as supervision.selectors.at_risk_deadlines
          LEFT JOIN routing_assignment a ON a.id = coalesce(d.assignment_id, (
                SELECT l.id FROM routing_assignment l
                 WHERE l.case_id = d.case_id AND l.role = '{AssignmentRole.LEAD.value}'
                   AND l.state = ANY({active}) LIMIT 1))
         WHERE d.met_at IS NULL
           AND d.warning_level = ANY({at_risk}) AND d.kind = ANY({duties})
        RETURNING case_id, center_id, department_id, handler_id, level, is_law_related, due_at
    ), rows AS (
        SELECT -1 AS sign, * FROM old UNION ALL SELECT 1, * FROM new
    ), keys AS (
        -- each case counts once per (center, dimension, key, level), as COUNT(DISTINCT case)
        SELECT DISTINCT r.sign, r.case_id, r.center_id, k.dimension, k.key, lv.level
          FROM rows r
         CROSS JOIN LATERAL (VALUES ('c', 0::bigint), ('d', r.department_id),
                                    ('h', r.handler_id),
                                    ('l', CASE WHEN r.is_law_related THEN 0::bigint END)) k(dimension, key)
         CROSS JOIN LATERAL (VALUES (r.level::text), ('total')) lv(level)
         WHERE k.key IS NOT NULL
    ), deltas AS (
        SELECT center_id, dimension, key, level, sum(sign) AS n
          FROM keys GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT center_id, 'a', (extract(epoch FROM due_at) * 1000000)::bigint, 'overdue', sum(sign)
          FROM rows WHERE level = 'overdue' GROUP BY 1, 2, 3, 4
    )
    INSERT INTO supervision_dashboardcount (center_id, dimension, key, level, count)
    SELECT center_id, dimension, key, level, n FROM deltas WHERE n <> 0;
END $$;
"""  # noqa: S608  (only enum values are inlined, see _array)


TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION supervision_risk_from_deadline() RETURNS trigger
LANGUAGE plpgsql {PLANNER} AS $$
DECLARE ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT case_id) INTO ids FROM kr_new
         WHERE warning_level = ANY({_array(AT_RISK)}) AND met_at IS NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT case_id) INTO ids FROM kr_old
         WHERE warning_level = ANY({_array(AT_RISK)});
    ELSE
        -- a clock that is or was at risk and changed in what the dashboard counts
        SELECT array_agg(DISTINCT x.case_id) INTO ids FROM (
            SELECT n.case_id FROM kr_new n JOIN kr_old o ON o.id = n.id
             WHERE (n.warning_level = ANY({_array(AT_RISK)}) OR o.warning_level = ANY({_array(AT_RISK)}))
               AND (o.warning_level, o.met_at, o.due_at, o.kind, o.assignment_id, o.case_id)
                   IS DISTINCT FROM
                   (n.warning_level, n.met_at, n.due_at, n.kind, n.assignment_id, n.case_id)
            UNION ALL
            SELECT o.case_id FROM kr_new n JOIN kr_old o ON o.id = n.id
             WHERE o.case_id <> n.case_id AND o.warning_level = ANY({_array(AT_RISK)})
        ) x;
    END IF;
    PERFORM supervision_refresh_case_risk(ids);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION supervision_risk_from_assignment() RETURNS trigger
LANGUAGE plpgsql {PLANNER} AS $$
DECLARE ids bigint[];
BEGIN
    -- Only cases that have at-risk clocks can change: who answers for them.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT case_id) INTO ids FROM kr_new n
         WHERE EXISTS (SELECT 1 FROM supervision_atriskclock r WHERE r.case_id = n.case_id);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT case_id) INTO ids FROM kr_old o
         WHERE EXISTS (SELECT 1 FROM supervision_atriskclock r WHERE r.case_id = o.case_id);
    ELSE
        SELECT array_agg(DISTINCT n.case_id) INTO ids FROM kr_new n JOIN kr_old o ON o.id = n.id
         WHERE (o.state, o.role, o.department_id, o.handler_id, o.case_id)
               IS DISTINCT FROM (n.state, n.role, n.department_id, n.handler_id, n.case_id)
           AND EXISTS (SELECT 1 FROM supervision_atriskclock r
                        WHERE r.case_id = n.case_id OR r.case_id = o.case_id);
    END IF;
    PERFORM supervision_refresh_case_risk(ids);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION supervision_risk_from_case() RETURNS trigger
LANGUAGE plpgsql {PLANNER} AS $$
DECLARE ids bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.id) INTO ids FROM kr_old o
         WHERE EXISTS (SELECT 1 FROM supervision_atriskclock r WHERE r.case_id = o.id);
    ELSE
        -- opened or closed, moved to another center, law-related flag changed
        SELECT array_agg(n.id) INTO ids FROM kr_new n JOIN kr_old o ON o.id = n.id
         WHERE (o.state, o.center_id, o.is_law_related)
               IS DISTINCT FROM (n.state, n.center_id, n.is_law_related);
    END IF;
    PERFORM supervision_refresh_case_risk(ids);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS dashboard_risk_ins ON supervision_deadline;
DROP TRIGGER IF EXISTS dashboard_risk_upd ON supervision_deadline;
DROP TRIGGER IF EXISTS dashboard_risk_del ON supervision_deadline;
CREATE TRIGGER dashboard_risk_ins AFTER INSERT ON supervision_deadline
    REFERENCING NEW TABLE AS kr_new FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_deadline();
CREATE TRIGGER dashboard_risk_upd AFTER UPDATE ON supervision_deadline
    REFERENCING OLD TABLE AS kr_old NEW TABLE AS kr_new
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_deadline();
CREATE TRIGGER dashboard_risk_del AFTER DELETE ON supervision_deadline
    REFERENCING OLD TABLE AS kr_old FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_deadline();

DROP TRIGGER IF EXISTS dashboard_risk_ins ON routing_assignment;
DROP TRIGGER IF EXISTS dashboard_risk_upd ON routing_assignment;
DROP TRIGGER IF EXISTS dashboard_risk_del ON routing_assignment;
CREATE TRIGGER dashboard_risk_ins AFTER INSERT ON routing_assignment
    REFERENCING NEW TABLE AS kr_new FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_assignment();
CREATE TRIGGER dashboard_risk_upd AFTER UPDATE ON routing_assignment
    REFERENCING OLD TABLE AS kr_old NEW TABLE AS kr_new
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_assignment();
CREATE TRIGGER dashboard_risk_del AFTER DELETE ON routing_assignment
    REFERENCING OLD TABLE AS kr_old FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_assignment();

DROP TRIGGER IF EXISTS dashboard_risk_upd ON petitions_case;
DROP TRIGGER IF EXISTS dashboard_risk_del ON petitions_case;
CREATE TRIGGER dashboard_risk_upd AFTER UPDATE ON petitions_case
    REFERENCING OLD TABLE AS kr_old NEW TABLE AS kr_new
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_case();
CREATE TRIGGER dashboard_risk_del AFTER DELETE ON petitions_case
    REFERENCING OLD TABLE AS kr_old FOR EACH STATEMENT EXECUTE FUNCTION supervision_risk_from_case();
"""  # noqa: S608  (only enum values are inlined, see _array)

DROP_SQL = """
DROP TRIGGER IF EXISTS dashboard_risk_ins ON supervision_deadline;
DROP TRIGGER IF EXISTS dashboard_risk_upd ON supervision_deadline;
DROP TRIGGER IF EXISTS dashboard_risk_del ON supervision_deadline;
DROP TRIGGER IF EXISTS dashboard_risk_ins ON routing_assignment;
DROP TRIGGER IF EXISTS dashboard_risk_upd ON routing_assignment;
DROP TRIGGER IF EXISTS dashboard_risk_del ON routing_assignment;
DROP TRIGGER IF EXISTS dashboard_risk_upd ON petitions_case;
DROP TRIGGER IF EXISTS dashboard_risk_del ON petitions_case;
DROP FUNCTION IF EXISTS supervision_risk_from_deadline();
DROP FUNCTION IF EXISTS supervision_risk_from_assignment();
DROP FUNCTION IF EXISTS supervision_risk_from_case();
DROP FUNCTION IF EXISTS supervision_refresh_case_risk(bigint[]);
"""


def install_sql() -> str:
    return refresh_function_sql() + TRIGGER_SQL


COMPACT_SQL = """
WITH gone AS (
    DELETE FROM supervision_dashboardcount RETURNING center_id, dimension, key, level, count
)
INSERT INTO supervision_dashboardcount (center_id, dimension, key, level, count)
SELECT center_id, dimension, key, level, sum(count) FROM gone
 GROUP BY 1, 2, 3, 4 HAVING sum(count) <> 0
"""


def refresh_case_risk(case_ids: list[int]) -> None:
    """Refresh the kept dashboard rows of these cases now (in the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT supervision_refresh_case_risk(%s::bigint[])", [list(case_ids)])


def compact_kept_counters() -> None:
    """Refresh the cases the sweep left pending, then fold the delta rows of both counters."""
    from petitions.counters import compact_case_state_counts

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "WITH p AS (DELETE FROM supervision_riskrefreshpending RETURNING case_id) "
            "SELECT supervision_refresh_case_risk(array_agg(DISTINCT case_id)) FROM p"
        )
        cursor.execute(COMPACT_SQL)
        compact_case_state_counts()


def recount_kept_counters() -> None:
    """Rebuild every kept counter from the live tables, set-based: the triage counts (one GROUP
    BY) and the dashboard rows of every case with an at-risk clock (one refresh). Blocks writes
    to the cases and clocks meanwhile (SHARE locks), so nothing changes between the two."""
    from petitions.counters import TRIGGER_SQL as CASE_STATE_TRIGGERS
    from petitions.counters import recount_case_states

    with transaction.atomic(), connection.cursor() as cursor:
        # the functions and triggers as this code has them (CREATE OR REPLACE)
        cursor.execute(CASE_STATE_TRIGGERS)
        cursor.execute(install_sql())
        cursor.execute(
            "LOCK TABLE petitions_case, supervision_deadline, routing_assignment IN SHARE MODE"
        )
        recount_case_states()
        cursor.execute(
            "DELETE FROM supervision_atriskclock; DELETE FROM supervision_dashboardcount; "
            "DELETE FROM supervision_riskrefreshpending"
        )
        cursor.execute(
            "SELECT supervision_refresh_case_risk(array_agg(DISTINCT case_id)) "
            "FROM supervision_deadline WHERE met_at IS NULL AND warning_level = ANY(%s)",
            [list(AT_RISK)],
        )
        cursor.execute(COMPACT_SQL)
