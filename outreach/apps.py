from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("outreach")

    def ready(self) -> None:
        from petitions.hooks import register_case_section

        from .case_panel import outreach_case_section

        # One card on the case page: tours, 下访 / 约访, judicial aid, messages (case_panel.py).
        register_case_section(outreach_case_section)

        # 下访 and 约访 (F): the timeline's words for the visits and appointments.
        from petitions.events import register_event_labels as register_visit_labels

        from .services.visits import EVENT_LABELS as VISIT_EVENT_LABELS

        register_visit_labels(VISIT_EVENT_LABELS)

        # Messages to the petitioner (H): the lower apps' notices become text messages, and the
        # timeline's words for a message sent or given up.
        from petitions.events import register_event_labels
        from petitions.hooks import register_petitioner_notice_listener

        from .services.messages import petitioner_notice_listener

        register_petitioner_notice_listener(petitioner_notice_listener)
        register_event_labels(
            {
                "message_sent": _("Text message sent to the petitioner"),
                "message_failed": _("Text message could not be sent"),
            }
        )

        # Tours carrying cases (E): the timeline's words for the tour's events.
        from petitions.events import register_event_labels as register_tour_labels

        from .services.tours import EVENT_LABELS as TOUR_EVENT_LABELS

        register_tour_labels(TOUR_EVENT_LABELS)

        # Judicial aid (G): the timeline's words for each step of an application.
        from .services.aid import EVENT_LABELS as AID_EVENT_LABELS

        register_tour_labels(AID_EVENT_LABELS)

        # The reports (I): the sections of the reports page and the ledger columns (下访, 约访,
        # leader receptions, tours, judicial aid), through reports.hooks.
        from reports.hooks import register_ledger_columns, register_report_section

        from .report_sections import LEDGER_COLUMNS, aid_section, visits_section

        register_report_section(visits_section)
        register_report_section(aid_section)
        register_ledger_columns(LEDGER_COLUMNS)
