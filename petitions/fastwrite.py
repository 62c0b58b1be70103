"""Rows and their history rows in one statement (issue 21 §2: registration in fewer round trips).

simple-history writes one history row per ``save()``: a second INSERT per row. Registration
inserts a case, its links to the people, a visit and a screening clock, and each carries history;
written one by one that is ten statements, each a round trip inside the durable transaction.
``insert_with_history`` writes any number of rows of several models, and the history row of each,
in ONE statement: a data-modifying CTE per model (``INSERT … RETURNING *``) and beside it the
model's history ``INSERT … SELECT`` from what was inserted, so each history row holds exactly the
values the row was written with, with the same ``history_user``, ``history_date``,
``history_type`` ("+") and change reason as simple-history's per-save path (bulk_history_create
builds them the same way, one INSERT per model).

The rows are compiled by Django's own INSERT compiler (field ``pre_save``, ``get_db_prep_save``),
so values are adapted exactly as ``save()`` adapts them. What ``save()`` does beyond that is not
done: no ``pre_save``/``post_save`` signals (no receivers on these models but simple-history's,
whose row this writes), no ``save()`` override (callers insert only models without one, or apply
it: Petitioner's ``name_key``). The instances are marked saved (``_state``) afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.sql import InsertQuery
from django.utils import timezone


def _compiled_insert(
    model: type[Model], fields: list[Field[Any, Any]], objs: Sequence[Model]
) -> tuple[str, list[Any]]:
    query = InsertQuery(model)
    query.insert_values(fields, list(objs), raw=False)
    compiler = query.get_compiler(connection=connection)
    [(sql, params)] = compiler.as_sql()
    return sql, list(params)


# The one-row INSERT text per (model, columns): compiled by Django the first time, then
# reused with the values prepared as its compiler prepares them (pre_save, get_db_prep_save).
# Compiling it was a fifth of a registration's CPU (six INSERTs a call).
_insert_text: dict[tuple[type[Model], tuple[str, ...], int], str] = {}


def _insert_sql(model: type[Model], objs: Sequence[Model]) -> tuple[str, list[Any]]:
    """One multi-row ``INSERT`` of ``objs`` (every concrete field; the primary key too when the
    objects carry one), compiled as ``bulk_create`` compiles it, without RETURNING."""
    meta = model._meta
    fields = list(meta.local_concrete_fields)
    if any(obj.pk is None for obj in objs):
        fields = [f for f in fields if f is not meta.auto_field]
    if len(objs) != 1 or any(hasattr(f, "get_placeholder_sql") for f in fields):
        # Several rows: PostgreSQL's compiler may send them column-wise (UNNEST of arrays); a
        # field with its own placeholder: it depends on the value. Django compiles those.
        return _compiled_insert(model, fields, objs)
    params = []
    for obj in objs:
        for field in fields:
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):
                # An expression (a database default, Now(), ...): its SQL is part of the text,
                # so this statement is compiled by Django and its text not kept.
                return _compiled_insert(model, fields, objs)
            value = field.get_db_prep_save(value, connection=connection)
            if hasattr(value, "as_sql"):
                return _compiled_insert(model, fields, objs)
            params.append(value)
    key = (model, tuple(f.attname for f in fields), len(objs))
    sql = _insert_text.get(key)
    if sql is None:
        sql, params = _compiled_insert(model, fields, objs)
        _insert_text[key] = sql
    return sql, params


# Per model: its history table's INSERT column list and the source columns (None: no history).
# Read once per process: ``Model.history`` builds a manager class on every access.
_history_columns: dict[type[Model], tuple[str, str, str] | None] = {}


def _history_shape(model: type[Model]) -> tuple[str, str, str] | None:
    if model in _history_columns:
        return _history_columns[model]
    manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
    if manager_name is None:
        _history_columns[model] = None
        return None
    history = getattr(model, manager_name).model
    hmeta = history._meta
    quote = connection.ops.quote_name
    columns: list[str] = []
    values: list[str] = []
    for field in history.tracked_fields:
        columns.append(quote(hmeta.get_field(field.name).column))
        values.append(quote(field.column))
    for name in ("history_date", "history_change_reason", "history_type", "history_user"):
        columns.append(quote(hmeta.get_field(name).column))
    shape = (quote(hmeta.db_table), ", ".join(columns), ", ".join(values))
    _history_columns[model] = shape
    return shape


def _history_sql(
    model: type[Model], source: str, *, user_id: int | None, date: datetime, reason: str
) -> tuple[str, list[Any]] | None:
    """``INSERT INTO <history table> … SELECT … FROM <source>``: a history row ("+") for each row
    the CTE ``source`` inserted, with the model's tracked columns taken from it; None for a model
    without history."""
    shape = _history_shape(model)
    if shape is None:
        return None
    table, columns, values = shape
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608
        f"SELECT {values}, %s, %s, '+', %s FROM {source}"
    )
    return sql, [date, reason or None, user_id]


def insert_with_history(
    groups: Sequence[Sequence[Model]],
    *,
    user_id: int | None,
    reason: str = "",
    date: datetime | None = None,
) -> list[int]:
    """Insert each group's objects (one model per group, in order: rows a later group refers to
    come first; deferred foreign keys are checked at commit) and one history row per object, in
    one statement. Returns the primary keys of the first group (set on its objects too); the
    other groups' objects must carry their primary keys already (``reserve_ids``)."""
    date = date or timezone.now()
    parts: list[str] = []
    params: list[Any] = []
    for n, objs in enumerate(groups):
        if not objs:
            continue
        model = type(objs[0])
        if n and any(obj.pk is None for obj in objs):
            raise ValueError("only the first group's rows may take their keys from the database")
        sql, sql_params = _insert_sql(model, objs)
        parts.append(f"r{n} AS ({sql} RETURNING *)")
        params += sql_params
        history = _history_sql(model, f"r{n}", user_id=user_id, date=date, reason=reason)
        if history is not None:
            parts.append(f"h{n} AS ({history[0]})")
            params += history[1]
    pk = connection.ops.quote_name(str(type(groups[0][0])._meta.pk.column))
    statement = f"WITH {', '.join(parts)} SELECT {pk} FROM r0"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        ids = [row[0] for row in cursor.fetchall()]
    first = groups[0]
    if any(obj.pk is None for obj in first):
        # RETURNING gives the rows in the order of VALUES in PostgreSQL (bulk_create relies on it).
        for obj, pk_value in zip(first, ids, strict=True):
            obj.pk = pk_value
    for objs in groups:
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias
    return ids


def sequence_sql(model: type[Model]) -> str:
    """The SQL expression that takes the next primary key of ``model``'s table."""
    table = model._meta.db_table
    column = model._meta.pk.column
    return f"nextval(pg_get_serial_sequence('{table}', '{column}'))"
