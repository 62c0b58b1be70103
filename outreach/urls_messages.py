"""Messages to the petitioner have no page of their own: the case page shows them
(templates/outreach/messages/_case_panel.html) and the admin edits the templates."""

urlpatterns: list = []
