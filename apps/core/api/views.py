from django.conf import settings
from django.utils.translation import gettext as _
from django_otp import user_has_device
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..models import Notification, OrgUnit
from ..scoping import HasModelPermission, ScopedViewSetMixin
from .filters import OrgUnitFilterSet
from .serializers import (
    MeSerializer,
    NotificationSerializer,
    OrgUnitSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class OrgUnitViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Org units the caller may see (own unit and below; the whole district for bureau roles)."""

    queryset = OrgUnit.objects.all()
    serializer_class = OrgUnitSerializer
    permission_classes = [HasModelPermission]
    required_permission = "core.view_orgunit"
    filterset_class = OrgUnitFilterSet  # ``q``: name contains or code starts with (a NUL in it is a 400)

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        # Parent ids in one query for the whole page instead of one per unit.
        ctx["parent_ids"] = dict(OrgUnit.objects.filter(depth__lt=3).values_list("path", "pk"))
        return ctx


class NotificationViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_fields = ["level"]

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None, format=None):  # noqa: A002 (DRF format suffix)
        notification = self.get_object()
        services.notification_mark_read(user=request.user, notification_ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)


class ObtainTokenView(APIView):
    """Token for scripts by user name and password. Accounts with a second factor (all administrators)
    must issue their token from the profile page after verifying it, never by password alone.

    Each call issues a new token and revokes the user's previous ones; the key is in this answer only (the
    database keeps a digest) and expires after API_TOKEN_TTL_DAYS (``expiry``)."""

    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [FormParser, MultiPartParser, JSONParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if user_has_device(user, confirmed=True) or (settings.OTP_REQUIRED_FOR_ADMINS and user.is_portal_admin):
            raise ValidationError({"non_field_errors": [
                _("This account uses two-step verification: issue the API token on the My account page.")]})
        instance, key = services.api_token_issue(user=user)
        return Response(TokenSerializer({"token": key, "expiry": instance.expiry}).data)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
