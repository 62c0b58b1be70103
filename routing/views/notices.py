"""Written notices: the page to print and the PDF."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..notices import notice_pdf
from ..selectors import get_notice_for
from ._common import _user

# --- written notices ----------------------------------------------------------------------------------


@login_required
@require_GET
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_notice_for(_user(request), pk)
    return render(request, "routing/notice.html", {"notice": found, "case": found.case})


@login_required
@require_GET
def notice_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_notice_for(_user(request), pk)
    response = HttpResponse(notice_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{found.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
