"""Domain errors raised by services. The UI shows them as messages; the API maps them (core.api)."""


class DomainError(Exception):
    """An action the case's state or the rules do not allow (API: 409)."""

    code = "not_allowed"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class IllegalTransition(DomainError):
    code = "illegal_transition"


class StaleState(DomainError):
    """Someone else changed the record first (optimistic check failed)."""

    code = "stale"


class PermissionDenied(Exception):  # noqa: N818 - mirrors Django's name
    """The actor's role does not allow this action (API: 403)."""
