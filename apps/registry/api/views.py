"""Registry API: veterans and their family members, scoped and masked.

- ``/api/v1/veterans/`` list (the page's filters and search: ``q``, ``unit``, ``category``, ``care``,
  ``discharge_mode``, ``tag``, ``age``, ``sex``, ``status``), retrieve, create, update, partial update.
  Lists are cursor-paginated, newest first (``?cursor=…`` from ``next``), so a deep page costs what the
  first one costs; the page's ``ordering`` parameter does not apply here.
- ``/api/v1/veterans/{veteran_pk}/family/`` list, create; ``…/family/{id}/`` retrieve, update.
- ``/api/v1/codes/`` the code tables (read-only), to look up the names the registry fields take.

A record outside the caller's area answers 404 like a missing one (``visible_to``); a missing role
permission answers 403. A record's ``ETag`` is its version: PUT/PATCH with ``If-Match`` answer 412 when
someone else changed the record since (``apps.core.concurrency``). Writes go through ``apps.registry.services``.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.core.choices import AccessAction
from apps.core.concurrency import VersionedUpdateMixin
from apps.core.scoping import HasModelPermission, ScopedViewSetMixin
from apps.core.services import access_log_record

from .. import reference, selectors
from ..filters import VeteranFilterSet
from ..models import Code, FamilyMember, Veteran
from .serializers import CodeSerializer, FamilyMemberSerializer, VeteranSerializer, attach_code_ids


class VeteranApiFilterSet(VeteranFilterSet):
    """The page's FilterSet as the API documents it: its ordering does not apply to cursor paging."""

    ordering = None


class VeteranFilterBackend(DjangoFilterBackend):
    """List filtering through ``selectors.veteran_filterset`` (the page's FilterSet, scoped unit choices).

    Invalid parameters (an unknown category, a unit outside the caller's area) answer 400. Detail
    actions are not filtered: a closed record is still retrieved by its id.
    """

    def get_filterset_class(self, view, queryset=None):
        return VeteranApiFilterSet

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        params = request.query_params.copy()
        params.pop("ordering", None)
        filterset = selectors.veteran_filterset(user=request.user, params=params,
                                                snapshot=reference.snapshot(request))
        if filterset.is_bound and not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return view.with_related(filterset.qs)


class VeteranCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class WritePermissionByActionMixin:
    """``write_permission`` for HasModelPermission: add on create, change on update."""

    add_permission: str
    change_permission: str

    @property
    def write_permission(self) -> str:
        return self.add_permission if self.action == "create" else self.change_permission


@extend_schema_view(
    list=extend_schema(summary=_("List veterans"),
                       description=_("Records in the caller's area, filtered and searched like the register page; "
                                     "newest first, cursor-paginated. Filters take ids as on the page: the unit's "
                                     "id, code-table ids for category, care, discharge_mode and tag "
                                     "(/api/v1/codes/); status=all includes closed records.")),
    retrieve=extend_schema(summary=_("One veteran record (ID number masked; the view is logged)")),
    create=extend_schema(summary=_("Register a veteran"),
                         description=_("Validated like the form: ID check digit, birth date and sex agree with the "
                                       "ID number, a person already registered anywhere is refused.")),
    update=extend_schema(summary=_("Change a record (not its identity, unit or status)")),
    partial_update=extend_schema(summary=_("Change some fields of a record")),
)
class VeteranViewSet(VersionedUpdateMixin, WritePermissionByActionMixin, ScopedViewSetMixin, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                     viewsets.GenericViewSet):
    """Veterans (一人一档) the caller may see."""

    queryset = Veteran.objects.all()
    serializer_class = VeteranSerializer
    permission_classes = [HasModelPermission]
    required_permission = "registry.view_veteran"
    add_permission = "registry.add_veteran"
    change_permission = "registry.change_veteran"
    filter_backends = [VeteranFilterBackend]
    pagination_class = VeteranCursorPagination

    def with_related(self, queryset):
        # One query for the rows (the encrypted number is never shown), one per many-to-many (ids only,
        # serializers.attach_code_ids); code and unit names come from one look-up each (context_map), not
        # from joins: constant in the page size, and a plan PostgreSQL finds quickly (fifteen joins would
        # hand it to the genetic optimizer).
        return queryset.defer("id_number_encrypted")

    def get_queryset(self):
        return self.with_related(super().get_queryset())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        attach_code_ids(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        veteran = self.get_object()
        access_log_record(user=request.user, action=AccessAction.VIEW, obj=veteran, request=request)
        attach_code_ids([veteran])
        return Response(self.get_serializer(veteran).data)


VETERAN_PK = OpenApiParameter("veteran_pk", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description=_("Id of the veteran the family member belongs to."))


@extend_schema_view(
    list=extend_schema(summary=_("Family members of a veteran"), parameters=[VETERAN_PK]),
    retrieve=extend_schema(summary=_("One family member (ID number masked)"), parameters=[VETERAN_PK]),
    create=extend_schema(summary=_("Add a family member"), parameters=[VETERAN_PK]),
    update=extend_schema(summary=_("Change a family member"), parameters=[VETERAN_PK]),
    partial_update=extend_schema(summary=_("Change some fields of a family member"), parameters=[VETERAN_PK]),
)
class FamilyMemberViewSet(VersionedUpdateMixin, WritePermissionByActionMixin, ScopedViewSetMixin, mixins.ListModelMixin,
                          mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                          viewsets.GenericViewSet):
    """Family members (家庭成员/军属) of one veteran in the caller's area; a person's family is one short list."""

    queryset = FamilyMember.objects.all()
    serializer_class = FamilyMemberSerializer
    permission_classes = [HasModelPermission]
    required_permission = "registry.view_familymember"
    add_permission = "registry.add_familymember"
    change_permission = "registry.change_familymember"
    pagination_class = None
    filter_backends: list = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and permissions first: 403 before 404
        self.veteran = self.get_veteran()

    def get_veteran(self) -> Veteran:
        try:
            return Veteran.objects.visible_to(self.request.user).get(pk=self.kwargs["veteran_pk"])
        except (Veteran.DoesNotExist, ValueError) as exc:
            raise Http404 from exc

    def get_queryset(self):
        return super().get_queryset().filter(veteran_id=self.kwargs.get("veteran_pk")).order_by("id")

    def perform_create(self, serializer: FamilyMemberSerializer) -> None:
        serializer.save_through_service(veteran=self.veteran, member=None)

    def perform_update(self, serializer: FamilyMemberSerializer) -> None:
        serializer.save_through_service(veteran=self.veteran, member=serializer.instance)


@extend_schema_view(
    list=extend_schema(summary=_("Code tables"),
                       description=_("The entries registry fields take by name; filter with ?kind=.")),
    retrieve=extend_schema(summary=_("One code-table entry")),
)
class CodeViewSet(viewsets.ReadOnlyModelViewSet):
    """Code tables (reference data, the same for the whole district)."""

    queryset = Code.objects.order_by("kind", "sort_order", "code")
    serializer_class = CodeSerializer
    permission_classes = [HasModelPermission]
    required_permission = "registry.view_veteran"
    pagination_class = None
    filterset_fields = ["kind", "is_active"]
