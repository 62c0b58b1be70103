"""HTTP hardening that applies to every response."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every dynamic response.

    Staff pages and the API carry personal data, and so does the petitioner's public status page
    (reached with a query code, no login). Neither the browser's cache, its back button after
    logout, nor a proxy may keep a copy. Rather than deciding page by page (and forgetting one),
    every response that passes through Django gets it; static files are served by WhiteNoise,
    which sits before this middleware and answers them with its own long-lived caching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        static = settings.STATIC_URL or "/static/"
        self.static_prefix = static if static.startswith("/") else f"/{static}"

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith(self.static_prefix):
            return response
        # max-age=0 and public/private cannot coexist sensibly with no-store; drop them.
        cache_control = response.get("Cache-Control", "")
        if "no-store" not in cache_control:
            if cache_control:
                del response["Cache-Control"]
            patch_cache_control(response, no_store=True, private=True)
        # For HTTP/1.0 proxies.
        response.setdefault("Pragma", "no-cache")
        return response
