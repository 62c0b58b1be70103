"""Campaign pages (专项活动): list, form, campaign page, matters and their ledgers, exports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponseNotFound()


campaign_list = campaign_create = campaign_detail = campaign_edit = campaign_close = _todo
matter_list = matter_create = matter_detail = matter_sign = matter_progress = _todo
matter_ledger = ledger_export = summary_pdf = _todo
