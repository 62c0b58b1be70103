"""The Jinja2 environment of the hot list fragments (issue 21): the rows of the inbox, the screening
queue and the case list, the dashboard's breakdown tables and FastSelect. Jinja2 compiles a
template to Python once, so a page of rows costs about what the f-strings it replaces cost, while
the markup stays in templates and every value is escaped by the engine, not by each call.

The pages themselves stay Django templates (base.html and its blocks): a view renders its rows
with ``render_fragment`` (one Jinja2 call per page, the loop inside the template) and hands the
result to the page template as one safe string.

- Escaping is Django's (``django.utils.html.escape``: ``&quot;`` and ``&#x27;``), not
  MarkupSafe's (``&#34;``, ``&#39;``): ``finalize`` escapes every printed value that is not
  already safe, so a fragment writes what the Django template it replaced wrote, character for
  character (core/tests/test_listing.py, routing/tests/test_list_rows.py).
- Translations: the i18n extension with Django's gettext/ngettext (new-style: ``{{ _("Open") }}``,
  ``{% trans n=count %}…{% pluralize %}…{% endtrans %}``), so the msgids are those of the Django
  templates and the .po file.
- Helpers the rows need, computed once per page: ``url_maker`` (reverse once, fill in each row's
  id), ``choice_labels``, the date filters ``local_date`` / ``local_minute`` / ``local_iso``.
  ``csrf_input`` comes from Django's backend when the request is passed.
"""

from __future__ import annotations

import html
from typing import Any

from django.template import engines
from django.template.backends.jinja2 import Jinja2
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from jinja2 import Environment
from markupsafe import Markup

ENGINE = "jinja2"


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}``, before autoescaping: Django's escape where it differs from
    MarkupSafe's (a quote: ``&quot;`` / ``&#x27;`` instead of ``&#34;`` / ``&#39;``); everything
    else is left to MarkupSafe's escape (in C), which writes what Django's does. A safe value
    (SafeString, Markup) and an int are printed as they are."""
    cls = value.__class__
    if cls is str:
        text = value
    elif cls is int or hasattr(value, "__html__"):
        return value
    else:
        text = str(value)
    if '"' in text or "'" in text:
        return Markup(html.escape(text))  # noqa: S704 - the text is escaped right here
    return text


def environment(**options: Any) -> Environment:
    # core.listing's FastSelect renders through this module: imported here, not at the top
    from core.listing import choice_labels, local_date, local_iso, local_minute, url_maker

    options["autoescape"] = True  # Django's backend default, and never off here
    env = Environment(extensions=["jinja2.ext.i18n"], finalize=_finalize, **options)  # noqa: S701
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(url_maker=url_maker, choice_labels=choice_labels)
    env.filters.update(local_date=local_date, local_minute=local_minute, local_iso=local_iso)
    return env


def engine() -> Jinja2:
    found = engines[ENGINE]
    assert isinstance(found, Jinja2)
    return found


def render_fragment(name: str, context: dict[str, Any], request: Any = None) -> SafeString:
    """A Jinja2 template rendered to a safe string for a Django page template to print as it is:
    the engine escaped every value on the way (autoescape and ``_finalize`` above)."""
    rendered = engine().get_template(name).render(context, request)
    return SafeString(rendered)
