from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("campaigns")

    def ready(self) -> None:
        from petitions import hooks
        from petitions.events import register_event_labels

        from .selectors import reviewer_case_ids

        # Outside reviewers (人大代表, 政协委员, lawyers) read their sampled cases and nothing else.
        hooks.register_user_visibility_provider(reviewer_case_ids)
        # The running campaigns on the supervision dashboard (deadlines, overdue matters).
        from supervision.hooks import register_dashboard_panel

        from .panels import running_campaigns_panel

        register_dashboard_panel(running_campaigns_panel)
        register_event_labels(
            {
                "campaign_matter": _("Handed down as a backlog matter (积案交办)"),
                "campaign_matter_signed": _("Backlog matter signed for"),
                "campaign_progress": _("Backlog matter progress"),
                "campaign_ledger": _("Backlog matter ledger updated"),
                "campaign_progress_overdue": _("Backlog matter progress report overdue"),
                "campaign_progress_escalated": _("Backlog matter escalated: no progress"),
                "campaign_candidate_kept": _("Kept in a campaign's sweep (排查)"),
                "campaign_candidate_dropped": _("Dropped from a campaign's sweep (排查)"),
            }
        )
