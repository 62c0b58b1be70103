"""Petition records under /api/v1/ (included by config.api_urls)."""

from rest_framework.routers import SimpleRouter

from petitions.api.views import CaseViewSet, PetitionerViewSet

router = SimpleRouter(use_regex_path=False)
router.register("petitioners", PetitionerViewSet, basename="petitioner")
router.register("cases", CaseViewSet, basename="case")

urlpatterns = router.urls
