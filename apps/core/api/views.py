from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..models import Notification, OrgUnit
from ..scoping import HasModelPermission, ScopedViewSetMixin
from .serializers import MeSerializer, NotificationSerializer, OrgUnitSerializer


class OrgUnitViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Org units the caller may see (own unit and below; the whole district for bureau roles)."""

    queryset = OrgUnit.objects.all()
    serializer_class = OrgUnitSerializer
    permission_classes = [HasModelPermission]
    required_permission = "core.view_orgunit"
    filterset_fields = ["level", "is_station", "code"]

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        # Parent ids in one query for the whole page instead of one per unit.
        ctx["parent_ids"] = dict(OrgUnit.objects.filter(depth__lt=3).values_list("path", "pk"))
        return ctx

    def get_queryset(self):
        qs = super().get_queryset()
        if q := self.request.query_params.get("q"):
            qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
        return qs


class NotificationViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_fields = ["level"]

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.notification_mark_read(user=request.user, notification_ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
