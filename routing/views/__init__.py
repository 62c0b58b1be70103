"""Screening (审查分流), the department inbox (签收 / 退回 / 受理) and written notices, one module
per operation:

- ``screening_queue``: the screening queue;
- ``screening``: the screening page and its decisions;
- ``reassignment``: reassigning a case in handling;
- ``inbox``: the department inbox;
- ``assignments``: one assignment and the receiving department's actions on it;
- ``notices``: written notices (page and PDF);
- ``_common``: what they share (role checks, service errors, tabs, pagers).

Reads go through routing.selectors and petitions.selectors (the viewer decides what exists: another
department's assignment or another center's case is the same 404 as a missing one); every write
goes through routing.services or petitions.services. Service errors become form errors
(ValidationError), a 409 page with the service's message (DomainError, including StaleState when
someone else changed the case first) or a 403 page with its message (PermissionDenied). The list
rows are Jinja2 templates (templates/jinja2/routing/), rendered once per page.
"""

from ._common import add_service_errors, focus_first_error
from .assignments import (
    assignment_accept,
    assignment_attachment,
    assignment_contribute,
    assignment_detail,
    assignment_note,
    assignment_return,
    assignment_sign,
)
from .inbox import inbox_view
from .notices import notice, notice_pdf_view
from .reassignment import reassign
from .screening import screen
from .screening_queue import triage_queue_view

__all__ = [
    "add_service_errors",
    "assignment_accept",
    "assignment_attachment",
    "assignment_contribute",
    "assignment_detail",
    "assignment_note",
    "assignment_return",
    "assignment_sign",
    "focus_first_error",
    "inbox_view",
    "notice",
    "notice_pdf_view",
    "reassign",
    "screen",
    "triage_queue_view",
]
