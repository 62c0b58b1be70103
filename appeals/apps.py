from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    """Review (复查), re-review (复核), lawful termination (依法终结) and finality (Arts 35-37).
    Above closure: it builds on the delivered written reply."""

    name = "appeals"
    verbose_name = _("Review, re-review and lawful termination")

    def ready(self) -> None:
        # petitions must not import appeals (imports point down): appeals plugs its desk warning
        # and the reviewing center's read access into petitions' hooks instead.
        from petitions import hooks

        from . import selectors

        hooks.register_warning_provider(selectors.finality_warnings)
        # Registration recognises a final matter (不再受理, Arts 35-37) by these rows.
        hooks.register_final_matter_provider(selectors.finality_rows)
        hooks.register_visibility_provider(selectors.cases_under_review_by)
        from petitions.events import register_event_labels

        # Art 36: a re-review above the top of the deployment (appeals.services.request_review)
        register_event_labels({"re_review_forwarded": _("Re-review forwarded upward")})
        try:
            from petitions.actions import register_provider
        except ImportError:  # pragma: no cover - the case-page action registry not installed
            return
        from .actions import case_actions

        register_provider(case_actions)
