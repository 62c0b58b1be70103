"""Per-request CPU by phase (issue 21 §4): what a request costs, and where, on a running server.

Off by default. With ``PROFILE_REQUESTS=true`` in the environment (settings.PROFILE_REQUESTS),
every request served appends one JSON line to ``PROFILE_REQUESTS_FILE`` (default
``var/profile/requests.jsonl``)::

    {"at": "...", "method": "GET", "route": "api:routing-inbox", "status": 200, "auth": "token",
     "cpu_ms": 7.9, "wall_ms": 11.2, "phases": {"middleware": 0.9, "view": 4.1, "db": 1.6,
     "serialization": 1.3, "template": 0.0}, "queries": 4, "db_wall_ms": 4.4,
     "db_server_cpu_ms": 1.9}

- ``cpu_ms`` is this process's CPU time for the request (``time.process_time``), ``wall_ms`` the
  elapsed time; the phases are CPU time and add up to ``cpu_ms``: each is *exclusive* (the DB
  queries run while a template renders count as ``db``, not ``template``).
  ``middleware``: everything outside the view (the middleware chain, URL resolving);
  ``view``: the view's own Python (forms, the ORM building queries and model instances, services);
  ``db``: this process's CPU inside ``cursor.execute`` (the driver; ``queries`` and
  ``db_wall_ms`` count and time them, waiting for PostgreSQL included);
  ``serialization``: DRF serializers' ``.data`` and the JSON renderer;
  ``template``: rendering Django and Jinja2 templates.
- ``db_server_cpu_ms``: the CPU the request's PostgreSQL backend spent, read from
  ``/proc/<backend pid>/stat`` before and after; ``null`` when the server is on another machine
  (or the request opened its connection).
- The route is the URL pattern's name, never the path or query string (case ids and searched ID
  numbers stay out of the file).

``python -m core.profiling [file]`` prints the mean of each figure per route. Two middleware
classes do the measuring: :class:`RequestProfileMiddleware` first in ``MIDDLEWARE`` and
:class:`ViewProfileMiddleware` last; both are removed by Django at start-up when profiling is off
(``MiddlewareNotUsed``), so they cost nothing then. The template, serializer and renderer probes
are installed (wrapped once per process) only when profiling is on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import HttpRequest, HttpResponseBase

PHASES = ("middleware", "view", "db", "serialization", "template")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class _Record:
    """One request's clock: a stack of phases, the running one charged until the next switch."""

    __slots__ = ("cpu", "stack", "since", "queries", "db_wall")

    def __init__(self) -> None:
        self.cpu = dict.fromkeys(PHASES, 0.0)
        self.stack: list[str] = []
        self.since = 0.0
        self.queries = 0
        self.db_wall = 0.0

    def enter(self, phase: str) -> None:
        now = time.process_time()
        if self.stack:
            self.cpu[self.stack[-1]] += now - self.since
        self.stack.append(phase)
        self.since = now

    def leave(self) -> None:
        now = time.process_time()
        self.cpu[self.stack.pop()] += now - self.since
        self.since = now

    def run_query(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        self.queries += 1
        started = time.perf_counter()
        self.enter("db")
        try:
            return execute(sql, params, many, context)
        finally:
            self.leave()
            self.db_wall += time.perf_counter() - started


_current: ContextVar[_Record | None] = ContextVar("request_profile", default=None)


def _in_phase(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def probe(*args: Any, **kwargs: Any) -> Any:
        record = _current.get()
        if record is None or (record.stack and record.stack[-1] == phase):
            return function(*args, **kwargs)
        record.enter(phase)
        try:
            return function(*args, **kwargs)
        finally:
            record.leave()

    probe.__profiled__ = True  # type: ignore[attr-defined]
    return probe


def _wrap_method(cls: type, name: str, phase: str) -> None:
    original = cls.__dict__.get(name)
    if original is None or getattr(original, "__profiled__", False):
        return
    setattr(cls, name, _in_phase(phase, original))


def _wrap_property(cls: type, name: str, phase: str) -> None:
    original = cls.__dict__.get(name)
    if not isinstance(original, property) or original.fget is None:
        return
    if getattr(original.fget, "__profiled__", False):
        return
    setattr(cls, name, property(_in_phase(phase, original.fget), original.fset, original.fdel))


def install_probes() -> None:
    """Wrap template rendering, serializers' ``.data`` and the JSON renderer (idempotent)."""
    from django.template.backends import django as django_backend
    from rest_framework import renderers, serializers

    _wrap_method(django_backend.Template, "render", "template")
    try:
        from django.template.backends import jinja2 as jinja2_backend
    except ImportError:  # pragma: no cover - Jinja2 is a dependency, kept optional here
        pass
    else:
        _wrap_method(jinja2_backend.Template, "render", "template")
    for cls in (serializers.BaseSerializer, serializers.Serializer, serializers.ListSerializer):
        _wrap_property(cls, "data", "serialization")
    _wrap_method(renderers.JSONRenderer, "render", "serialization")


def _backend_cpu_seconds(alias: str = "default") -> tuple[int, float] | None:
    """(pid, CPU s) of the PostgreSQL backend of an open connection, when /proc shows it."""
    raw = getattr(connections[alias], "connection", None)
    if raw is None:
        return None
    pid_of = getattr(raw, "get_backend_pid", None)  # psycopg2
    pid = pid_of() if pid_of is not None else getattr(getattr(raw, "info", None), "backend_pid", 0)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is field 3 (state) of proc(5): utime and stime are fields 14 and 15.
    return pid, (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "(unresolved)"
    return match.view_name or match.route or "(unnamed)"


def _auth(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        return "token"
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return "session"
    return "none"


class RequestProfileMiddleware:
    """First in MIDDLEWARE: times the whole request and writes its line (module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not getattr(settings, "PROFILE_REQUESTS", False):
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.path = Path(settings.PROFILE_REQUESTS_FILE)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        install_probes()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        record = _Record()
        token = _current.set(record)
        backend_before = _backend_cpu_seconds()
        wall_started = time.perf_counter()
        record.enter("middleware")
        cpu_started = record.since
        try:
            with ExitStack() as stack:
                for connection in connections.all():
                    stack.enter_context(connection.execute_wrapper(record.run_query))
                response = self.get_response(request)
            record.leave()
        finally:
            _current.reset(token)
        cpu = record.since - cpu_started  # the phases' clock: they add up to it exactly
        wall = time.perf_counter() - wall_started
        backend_after = _backend_cpu_seconds()
        server_cpu = None
        if backend_before and backend_after and backend_before[0] == backend_after[0]:
            server_cpu = round((backend_after[1] - backend_before[1]) * 1000, 1)
        line = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": request.method,
            "route": _route(request),
            "status": response.status_code,
            "auth": _auth(request),
            "cpu_ms": round(cpu * 1000, 3),
            "wall_ms": round(wall * 1000, 3),
            "phases": {phase: round(record.cpu[phase] * 1000, 3) for phase in PHASES},
            "queries": record.queries,
            "db_wall_ms": round(record.db_wall * 1000, 3),
            # Clock ticks (10 ms): meaningful as a mean over many requests, not for one.
            "db_server_cpu_ms": server_cpu,
        }
        # One write of one line in append mode: lines of several workers do not interleave.
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return response


class ViewProfileMiddleware:
    """Last in MIDDLEWARE: what runs inside it (process_view hooks, the view, a template
    response's rendering) is the view's; the probes carve db, serialization and template out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not getattr(settings, "PROFILE_REQUESTS", False):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        record = _current.get()
        if record is None:
            return self.get_response(request)
        record.enter("view")
        try:
            return self.get_response(request)
        finally:
            record.leave()


# --- reading the file ------------------------------------------------------------------------------


def summarize(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Mean figures per (method, route), the most expensive route (total CPU) first."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for text in lines:
        if text.strip():
            row = json.loads(text)
            groups.setdefault((row["method"], row["route"]), []).append(row)
    out = []
    for (method, route), rows in groups.items():
        n = len(rows)
        server = [r["db_server_cpu_ms"] for r in rows if r.get("db_server_cpu_ms") is not None]
        out.append(
            {
                "method": method,
                "route": route,
                "n": n,
                "cpu_ms": round(sum(r["cpu_ms"] for r in rows) / n, 2),
                "wall_ms": round(sum(r["wall_ms"] for r in rows) / n, 2),
                "phases": {p: round(sum(r["phases"][p] for r in rows) / n, 2) for p in PHASES},
                "queries": round(sum(r["queries"] for r in rows) / n, 1),
                "db_wall_ms": round(sum(r["db_wall_ms"] for r in rows) / n, 2),
                "db_server_cpu_ms": round(sum(server) / len(server), 2) if server else None,
                "total_cpu_s": sum(r["cpu_ms"] for r in rows) / 1000,
            }
        )
    out.sort(key=lambda r: -r["total_cpu_s"])
    return out


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path("var/profile/requests.jsonl")
    with path.open(encoding="utf-8") as f:
        rows = summarize(f)
    header = ["n", "cpu", *PHASES, "queries", "db wall", "pg cpu"]
    print(f"{'method route':<48}" + "".join(f"{h:>14}" for h in header))
    for r in rows:
        figures = [
            r["n"],
            r["cpu_ms"],
            *(r["phases"][p] for p in PHASES),
            r["queries"],
            r["db_wall_ms"],
            "-" if r["db_server_cpu_ms"] is None else r["db_server_cpu_ms"],
        ]
        name = f"{r['method']} {r['route']}"[:47]
        print(f"{name:<48}" + "".join(f"{v:>14}" for v in figures))
    print("(means per request, CPU ms; phases are exclusive and add up to cpu)")


if __name__ == "__main__":
    main(sys.argv[1:])
