"""The deadline sweep (DOMAIN.md §5, §7): warning levels, overdue records, reminders and
escalation of the duties, and closing of the windows that ran out, as set-based SQL.

Each pass is one statement that claims a batch of clocks needing a change (``FOR UPDATE SKIP
LOCKED``), updates them with a guard on the old value, and from the same RETURNING rows writes the
simple-history rows, the case timeline events and the notification outbox rows. So:
- no Python loop over open cases: Python only repeats the statement until a pass changes fewer
  rows than the batch size;
- one run reaches the fixed point: a claimed clock goes straight to its final state for ``now``
  (its warning level and the *last* escalation step whose delay has run, counted from its due
  time), so an immediate second run finds nothing to do. A clock that crosses several steps in
  one run (the beat was stopped for days, or data was imported) gets one history row for the run
  and one "escalated" event and one escalation notification per step crossed, so every role on
  the way (head, supervisor, leader) is told;
- idempotent: the guard (``warning_level``/``escalation_step`` unchanged since the claim) makes a
  concurrent run skip the row, and notification ``dedupe_key`` is unique as well;
- crash-safe: each batch commits on its own; a rerun finishes what a dead worker left;
- bounded memory: only counts come back to Python.

Duties and windows (clocks.models.DeadlineCategory): only duties are warned and escalated. A
window (someone's right) that runs out is closed: ``met_at`` = its due time, a "window_closed" case
event, never a warning or an escalation. Windows whose owner records more on lapse (the review
window: the matter becomes final) are left to that owner (WINDOWS_CLOSED_BY_OWNER).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .deadlines import DEFAULT_WARNING_DAYS
from .models import (
    WINDOW_KINDS,
    WINDOWS_CLOSED_BY_OWNER,
    EscalationStep,
)

BATCH_SIZE = 20_000
SWEEP_WORK_MEM = "64MB"


@dataclass
class SweepResult:
    levels_changed: int = 0
    escalated: int = 0  # clocks that moved up one or more escalation steps
    windows_closed: int = 0


def _thresholds() -> dict[str, int]:
    configured = getattr(settings, "DEADLINE_WARNING_DAYS", DEFAULT_WARNING_DAYS)
    return {
        "approaching": int(configured.get("approaching", 3)),
        "severe": int(configured.get("severe", 1)),
    }


# The level a clock should have now, as plain timestamp comparisons against bounds computed once
# per run (no per-row interval arithmetic): the same whole-day rule as deadlines.days_remaining
# (timedelta.days floors, so "days remaining <= n" is "due before now + n+1 days"), so the colour
# shown always matches the sweep.
_LEVEL_SQL = """
    CASE WHEN d.due_at < %(now)s THEN 'overdue'
         WHEN d.due_at < %(severe_end)s THEN 'severe'
         WHEN d.due_at < %(approaching_end)s THEN 'approaching'
         ELSE 'on_time' END
"""

_HISTORY_COLUMNS = (
    "id, kind, basis, day_type, starts_at, due_at, is_provisional, paused_at, paused_days, extended_days, "
    "extension_reason, met_at, warning_level, overdue_since, escalation_step, assignment_id, created_at, "
    "case_id, rule_id"
)

_ACTIVE_STATES = "('pending', 'signed', 'accepted')"

SWEEP_SQL = f"""
WITH batch AS (
    SELECT d.id, d.due_at, d.warning_level AS old_level, d.escalation_step AS old_step, lv.level,
           st.step AS new_step
    FROM supervision_deadline d
    CROSS JOIN LATERAL (SELECT {_LEVEL_SQL} AS level) lv
    -- The last step whose delay has run, counted from when the clock went overdue (its due
    -- time): a clock overdue past several steps reaches the last one in this one statement.
    -- A plain expression (the active steps are read once per run, _step_case), so checking the
    -- clocks that have nothing to do costs no subquery per row.
    CROSS JOIN LATERAL (SELECT CASE WHEN lv.level <> 'overdue' THEN d.escalation_step
                                    {{step_case}}
                                    ELSE d.escalation_step END AS step) st
    WHERE d.met_at IS NULL AND d.paused_at IS NULL
      AND d.due_at <= %(window_end)s
      -- windows (someone's right) are never warned or escalated: closed below when they run out
      AND NOT (d.kind = ANY(%(window_kinds)s))
      AND (d.warning_level <> lv.level OR st.step <> d.escalation_step)
      -- Keyset: each batch goes on from where the previous one stopped, in the order of the
      -- index (due_at, id), so a run reads each open clock once, not once per batch (the
      -- clocks changed by earlier batches, and the ones with nothing to do, are not rescanned).
      AND (d.due_at, d.id) > (%(after_due)s, %(after_id)s)
    ORDER BY d.due_at, d.id
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
), changed AS (
    -- The guard on the old values makes a concurrent or repeated sweep a no-op for this row.
    -- Only warning_level, overdue_since and escalation_step change, none of them indexed: with
    -- the table's free space (fillfactor, clocks migration 0003) the update is HOT and touches
    -- no index.
    UPDATE supervision_deadline d
       SET warning_level = b.level,
           overdue_since = CASE WHEN b.level = 'overdue' THEN COALESCE(d.overdue_since, d.due_at)
                                ELSE d.overdue_since END,
           escalation_step = b.new_step
      FROM batch b
     WHERE d.id = b.id AND d.met_at IS NULL
       AND d.warning_level = b.old_level AND d.escalation_step = b.old_step
    RETURNING d.*, b.old_level, b.old_step
), ctx AS (
    -- The clocks someone is told about, with their case (number, center) and who works on them,
    -- resolved once per batch by joins on unique keys (not a lookup per outbox row): the clock's
    -- own assignment (per-department clocks) and the case's active lead assignment (at most
    -- one: assignment_one_active_lead).
    SELECT ch.id, ch.case_id, ch.kind, ch.due_at, ch.warning_level, ch.old_level,
           ch.escalation_step, ch.old_step, c.number, c.center_id,
           -- warnings: the clock's own assignment, or for a case-level clock after assignment
           -- (handling, ...) the active lead, so the handler hears of it; screening goes to triage
           CASE WHEN ch.assignment_id IS NOT NULL THEN own.handler_id
                WHEN ch.kind <> 'screening' THEN lead.handler_id END AS handler_id,
           CASE WHEN ch.assignment_id IS NOT NULL THEN own.department_id
                WHEN ch.kind <> 'screening' THEN lead.department_id END AS department_id,
           -- escalation to the head: the clock's own department, else the lead department
           COALESCE(own.department_id, lead.department_id) AS head_department_id
      FROM changed ch
      JOIN petitions_case c ON c.id = ch.case_id
      LEFT JOIN routing_assignment own ON own.id = ch.assignment_id
      LEFT JOIN routing_assignment lead
        ON lead.case_id = ch.case_id AND lead.role = 'lead' AND lead.state IN {_ACTIVE_STATES}
     WHERE (ch.warning_level <> ch.old_level AND ch.warning_level <> 'on_time')
        OR ch.escalation_step <> ch.old_step
), crossed AS (
    -- every step a clock passed in this run: each role on the way is told, once
    SELECT x.id, x.case_id, x.kind, x.due_at, x.number, x.center_id, x.head_department_id,
           s.step, s.role
      FROM ctx x
      JOIN supervision_escalationstep s
        ON s.is_active AND s.step > x.old_step AND s.step <= x.escalation_step
), hist AS (
    INSERT INTO supervision_historicaldeadline ({_HISTORY_COLUMNS},
                history_date, history_change_reason, history_type, history_user_id)
    SELECT {_HISTORY_COLUMNS}, %(now)s,
           CASE WHEN escalation_step <> old_step THEN 'escalation' ELSE 'deadline sweep' END, '~', NULL
      FROM changed
), events AS (
    -- one multi-row INSERT for the batch's timeline events: level changes, then steps crossed
    INSERT INTO petitions_caseevent (case_id, kind, from_state, to_state, actor_id, at, message, data)
    SELECT ch.case_id, 'deadline_' || ch.warning_level, '', '', NULL::bigint, %(now)s::timestamptz, '',
           jsonb_build_object('deadline', ch.id, 'kind', ch.kind, 'level', ch.warning_level, 'due_at', ch.due_at)
      FROM changed ch WHERE ch.warning_level <> ch.old_level
    UNION ALL
    SELECT cr.case_id, 'escalated', '', '', NULL::bigint, %(now)s::timestamptz, '',
           jsonb_build_object('deadline', cr.id, 'kind', cr.kind, 'step', cr.step, 'role', cr.role)
      FROM crossed cr
), notes AS (
    -- Outbox rows, one per warning and per step crossed, each addressed once: to the handler
    -- (recipient) or to an audience (a role at a center, optionally one department), never one
    -- row per person; clocks.notify.recipients() expands an audience when e-mailing.
    INSERT INTO supervision_notification (recipient_id, audience_center_id, audience_department_id,
                audience_role, case_id, kind, title, body, created_at, delivery, attempts, dedupe_key)
    SELECT x.handler_id,
           CASE WHEN x.handler_id IS NULL THEN x.center_id END,
           CASE WHEN x.handler_id IS NULL THEN x.department_id END,
           CASE WHEN x.handler_id IS NOT NULL THEN ''
                WHEN x.department_id IS NOT NULL THEN 'officer' ELSE 'triage' END,
           x.case_id, CASE WHEN x.warning_level = 'overdue' THEN 'overdue' ELSE 'warning' END,
           x.number, x.kind || ':' || x.warning_level, %(now)s::timestamptz, 'pending', 0,
           'dl:' || x.id || ':' || x.warning_level || ':' || extract(epoch FROM x.due_at)::bigint
      FROM ctx x
     WHERE x.warning_level <> x.old_level AND x.warning_level <> 'on_time'
    UNION ALL
    SELECT NULL::bigint, cr.center_id, CASE WHEN cr.role = 'head' THEN cr.head_department_id END,
           cr.role, cr.case_id, 'escalation', cr.number,
           cr.kind || ':step' || cr.step, %(now)s::timestamptz, 'pending', 0,
           'esc:' || cr.id || ':' || cr.step || ':' || extract(epoch FROM cr.due_at)::bigint
      FROM crossed cr
    ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
),
-- Windows that ran out: closed at their due time (met_at = due_at), one history row and one
-- "window_closed" case event each; never warned, never escalated, never anyone's overdue work.
-- Windows are not part of Case.next_due_at (deadlines.refresh_case_next_due), so closing one
-- leaves it as it is.
wbatch AS (
    SELECT d.id FROM supervision_deadline d
     WHERE d.met_at IS NULL AND d.paused_at IS NULL AND d.due_at < %(now)s
       AND d.kind = ANY(%(closable_windows)s)
     LIMIT %(limit)s
       FOR UPDATE OF d SKIP LOCKED
), wclosed AS (
    UPDATE supervision_deadline d SET met_at = d.due_at
      FROM wbatch b WHERE d.id = b.id AND d.met_at IS NULL
    RETURNING d.*
), whist AS (
    INSERT INTO supervision_historicaldeadline ({_HISTORY_COLUMNS},
                history_date, history_change_reason, history_type, history_user_id)
    SELECT {_HISTORY_COLUMNS}, %(now)s, 'window closed', '~', NULL FROM wclosed
), wevents AS (
    INSERT INTO petitions_caseevent (case_id, kind, from_state, to_state, actor_id, at, message, data)
    SELECT w.case_id, 'window_closed', '', '', NULL::bigint, %(now)s::timestamptz, '',
           jsonb_build_object('deadline', w.id, 'kind', w.kind, 'due_at', w.due_at,
                              'assignment', w.assignment_id)
      FROM wclosed w
)
SELECT (SELECT count(*) FROM batch),
       (SELECT count(*) FROM changed WHERE warning_level <> old_level),
       (SELECT count(*) FROM changed WHERE escalation_step <> old_step),
       (SELECT count(*) FROM wclosed),
       last.due_at, last.id
  FROM (SELECT NULL) one
  LEFT JOIN (SELECT due_at, id FROM batch ORDER BY due_at DESC, id DESC LIMIT 1) last ON TRUE
"""


def _step_case(now: datetime) -> tuple[str, dict[str, Any]]:
    """The CASE branches that pick the last active escalation step due at ``now`` (highest step
    first) and their parameters: step i is due once the clock has been overdue since at or
    before ``now`` minus its delay, and only moves a clock up."""
    steps = list(
        EscalationStep.objects.filter(is_active=True)
        .order_by("-step")
        .values_list("step", "after_days")
    )
    branches = []
    params: dict[str, Any] = {}
    for i, (step, after_days) in enumerate(steps):
        branches.append(
            f"WHEN d.escalation_step < %(step_{i})s "
            f"AND COALESCE(d.overdue_since, d.due_at) <= %(cut_{i})s THEN %(step_{i})s"
        )
        params[f"step_{i}"] = step
        params[f"cut_{i}"] = now - timedelta(days=after_days)
    return "\n".join(branches), params


def _run_batches(sql: str, params: dict[str, Any], pause: float = 0.0) -> SweepResult:
    """Repeat ``sql`` until a pass claims fewer rows than the batch size. Each pass takes every
    clock it claims to its final state for ``now`` (level, last escalation step due, or closed),
    so a clock is changed at most once per run and an immediate second run finds nothing; rows
    another sweep holds (SKIP LOCKED) are that sweep's to finish. ``pause`` seconds are waited
    after each committed batch that leaves more to do (nothing is held meanwhile)."""
    result = SweepResult()
    # where the next batch of duties starts in the (due_at, id) order: before the first clock
    after_due: datetime = datetime(1, 1, 2, tzinfo=UTC)
    after_id = 0
    first = True
    while True:
        if pause and not first:
            time.sleep(pause)
        first = False
        with transaction.atomic(), connection.cursor() as cursor:
            # The planner cannot estimate the batch CTE (it guesses 1 row) and then updates through
            # a hash join that reads the whole deadline table; a primary-key nested loop touches
            # only the batch. Local to this transaction.
            # The batch's CTEs (claimed clocks, changed rows, outbox context) are kept in memory:
            # a 20,000-clock batch is ~10 MB, past the 4 MB default, and spilling it to temporary
            # files costs more than the statement's own writes. No JIT: at a million clocks the
            # estimated cost passes jit_above_cost and compiling the expressions took 0.3 s a
            # batch, more than a batch with nothing to do costs to run. One round trip for all.
            cursor.execute(
                "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
                f"SET LOCAL work_mem = '{SWEEP_WORK_MEM}'; SET LOCAL jit = off; "
                # issue 21 (kept counters): the dashboard's trigger only tries the per-case
                # locks while this batch holds its clocks' row locks (supervision.counters)
                "SET LOCAL kept_counters.try_lock = on"
            )
            cursor.execute(sql, {**params, "after_due": after_due, "after_id": after_id})
            claimed, levels, escalated, closed, last_due, last_id = cursor.fetchone()
        result.levels_changed += int(levels)
        result.escalated += int(escalated)
        result.windows_closed += int(closed)
        if last_due is not None:
            after_due, after_id = last_due, last_id
        if max(int(claimed), int(closed)) < int(params["limit"]):
            return result


def run_deadline_checks(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, pause_between_batches: float = 0.0
) -> SweepResult:
    """One sweep: move the duties' warning levels, record overdue, remind handlers, escalate to
    the last step due, close the windows that ran out. One run reaches the fixed point.
    ``pause_between_batches`` (seconds, default none) spaces the committed batches of a very large
    sweep out (settings.SWEEP_BATCH_PAUSE_MS); ``now`` stays the run's start either way."""
    now = now or timezone.now()
    thresholds = _thresholds()
    params: dict[str, Any] = {
        "now": now,
        "severe_end": now + timedelta(days=thresholds["severe"] + 1),
        "approaching_end": now + timedelta(days=thresholds["approaching"] + 1),
        "window_end": now + timedelta(days=thresholds["approaching"] + 1),
        "limit": batch_size,
        "window_kinds": sorted(WINDOW_KINDS),
        "closable_windows": sorted(WINDOW_KINDS - WINDOWS_CLOSED_BY_OWNER),
    }
    step_case, step_params = _step_case(now)
    result = _run_batches(
        SWEEP_SQL.replace("{step_case}", step_case),
        {**params, **step_params},
        pause=pause_between_batches,
    )
    if result.levels_changed or result.escalated:
        from .notify import kick_delivery

        kick_delivery()
    return result
