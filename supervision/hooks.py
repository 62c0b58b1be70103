"""Extension points of the supervision dashboard for the apps above supervision (imports point
down: supervision never imports them). An app registers its panels from ``AppConfig.ready()``.

- Dashboard panels add a card to the supervisors' and leaders' dashboard
  (supervision.views.dashboard), e.g. campaigns: the running campaigns with their deadlines and
  overdue matters. A provider takes the viewer and the time and returns a ``Panel`` (a template
  and its context) or None when it has nothing to show that viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


DashboardPanelProvider = Callable[[Any, datetime], "Panel | None"]

_dashboard_panels: list[DashboardPanelProvider] = []


def register_dashboard_panel(provider: DashboardPanelProvider) -> None:
    if provider not in _dashboard_panels:
        _dashboard_panels.append(provider)


def dashboard_panels(user: Any, now: datetime) -> list[Panel]:
    """The panels the registered providers offer this viewer, in registration order."""
    panels = []
    for provider in _dashboard_panels:
        panel = provider(user, now)
        if panel is not None:
            panels.append(panel)
    return panels
