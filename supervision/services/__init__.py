"""The supervision overlays of DOMAIN.md §4 and the extension of §5: the write path for each.

Extension (Art 34), supervision order (督办单), reminder (催办), leader responsibility (包案),
key-case consultation (会诊), accountability finding (责任倒查) and bulletin (通报). Every function is
typed and keyword-only, takes the acting user, checks role, state and guards on locked rows, keeps
history (simple-history, ``_history_user``), writes a CaseEvent in the same transaction and leaves a
Notification row for whoever must act next (e-mailed after commit, clocks.notify).

Who may act:
- department officers and heads act for their own department (extensions, order responses);
- supervisors and leaders act on the cases of their center *and of the centers below it*: unlike
  the case decisions (petitions.selectors.can_act_on), supervising a subordinate center's case from
  above is the point of 督办, so the check is core.selectors.centers_visible_to.

The case row is locked first in every function (then the overlay row), one lock order for all, so
a double click or two supervisors at once are serialised rather than deadlocked.

One module per overlay (extensions, orders, reminders, leader, consultations, findings,
bulletins), the shared guards and outbox helpers in ``common`` and the case-page reads in
``reads``; this package re-exports the public names, so ``from supervision.services import X``
works for all of them. The clocks the overlays run on are the lower app ``clocks``.
"""

from .bulletins import (
    issue_bulletin,
)
from .common import (
    DEPARTMENT_ROLES,
    MAX_EXTENSION_DAYS,
    REMINDER_REPEAT_WINDOW,
    SUPERVISING_ROLES,
    can_supervise,
    lead_assignment,
    visible_center_ids,
)
from .consultations import (
    record_consultation,
)
from .extensions import (
    ExtensionDecision,
    decide_extension,
    issue_extension_notice,
    open_handling_deadline,
    request_extension,
)
from .findings import (
    finding_departments,
    finding_officers,
    record_accountability_finding,
)
from .leader import (
    assign_leader_responsibility,
    resolve_leader_responsibility,
)
from .orders import (
    can_respond_to_order,
    close_order,
    issue_supervision_order,
    order_deadline,
    order_departments,
    respond_to_order,
)
from .reads import (
    CaseOverlays,
    case_overlays,
    extension_requests_visible_to,
    orders_visible_to,
    responsibilities_visible_to,
)
from .reminders import (
    Reminder,
    send_reminder,
)

__all__ = [
    "finding_departments",
    "finding_officers",
    "CaseOverlays",
    "DEPARTMENT_ROLES",
    "ExtensionDecision",
    "MAX_EXTENSION_DAYS",
    "REMINDER_REPEAT_WINDOW",
    "Reminder",
    "SUPERVISING_ROLES",
    "assign_leader_responsibility",
    "can_respond_to_order",
    "can_supervise",
    "case_overlays",
    "close_order",
    "decide_extension",
    "extension_requests_visible_to",
    "issue_bulletin",
    "issue_extension_notice",
    "issue_supervision_order",
    "lead_assignment",
    "open_handling_deadline",
    "order_deadline",
    "order_departments",
    "orders_visible_to",
    "record_accountability_finding",
    "record_consultation",
    "request_extension",
    "resolve_leader_responsibility",
    "respond_to_order",
    "responsibilities_visible_to",
    "send_reminder",
    "visible_center_ids",
]
