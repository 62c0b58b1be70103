"""The written reply (Arts 32-33), its delivery, the petitioner's evaluation, return visits,
closure, archive and reopening (DOMAIN.md §4: 反馈, 访结).

Each function is the one write path for its action (views, API, admin and appeals call it): it
checks role, state and guards on the locked case row, writes history and a CaseEvent in the same
transaction (petitions.services.transition_case / record_event), bumps the case version so that
an ``expected_version`` from a stale form is refused, and queues notifications as outbox rows.
"""

from __future__ import annotations

from core.errors import DomainError, PermissionDenied, StaleState  # noqa: F401 - what they raise

from .closing import (  # noqa: F401
    archive_case,
    archive_needs_override,
    close_by_agreement,
    close_case,
    reopen_case,
)
from .common import (  # noqa: F401
    CENTER_EVALUATION_ROLES,
    DOUBLE_SUBMIT_WINDOW,
    RETURN_VISIT_HORIZON,
    RETURN_VISIT_WORKING_DAYS,
    REVIEW_WINDOW_KIND,
)
from .evaluations import (  # noqa: F401
    LinkError,
    Verdict,
    check_link,
    evaluate_by_link,
    record_evaluation,
)
from .reexamination import (  # noqa: F401
    record_reexamination,
)
from .replies import (  # noqa: F401
    Delivery,
    ReplyText,
    approve_reply,
    default_review_route,
    deliver_reply,
    reissue_evaluation_link,
    save_reply_draft,
    send_back_reply,
)
from .return_visits import (  # noqa: F401
    VisitRecord,
    record_return_visit,
    schedule_return_visit,
)
