"""Registry API routes, included at /api/v1/ (see apps/registry/api/views.py for the shapes)."""

from rest_framework.routers import SimpleRouter

from .views import CodeViewSet, FamilyMemberViewSet, VeteranViewSet

# SimpleRouter: the API root view at /api/v1/ belongs to apps/core/api/urls.py.
router = SimpleRouter()
router.register("veterans", VeteranViewSet, basename="veteran")
# Any text as the veteran id (the view answers 404 in JSON for one that is no id, as for a missing one).
router.register(r"veterans/(?P<veteran_pk>[^/.]+)/family", FamilyMemberViewSet, basename="veteran-family")
router.register("codes", CodeViewSet, basename="code")

urlpatterns = router.urls
