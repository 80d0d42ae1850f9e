from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import MeView, NotificationViewSet, ObtainTokenView, OrgUnitViewSet

router = DefaultRouter()
router.register("orgunits", OrgUnitViewSet, basename="orgunit")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    *router.urls,
]
