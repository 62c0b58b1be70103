from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Screening and assignment")

    def ready(self) -> None:
        from clocks.notify import register_audience
        from petitions import hooks
        from petitions.actions import register_provider

        from . import selectors
        from .actions import case_actions

        register_provider(case_actions)
        # What petitions' visibility and case page need of assignments and transfers, given
        # through its hooks (petitions never imports routing).
        hooks.register_visibility_provider(selectors.cases_transferred_out_by)
        hooks.register_department_condition(selectors.assigned_to_department_q)
        hooks.register_case_assignments_loader(selectors.case_page_assignments)
        # Who hears of an assignment: the officers and heads of the departments it went to.
        register_audience(("assign", "reassign"), selectors.assignment_audience)
