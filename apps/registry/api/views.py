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

Reading lists is reading in bulk: every page of ``/api/v1/veterans/`` is written to the access log like an
export (who, filters, rows), and a caller without the export permission may page through at most
``API_LIST_MAX_ROWS_WITHOUT_EXPORT`` rows of one listing (403 past them), by token or session alike. Reading a
person's family members is logged on the person's record.
"""

from __future__ import annotations

from array import array

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.core import reference
from apps.core.api.filters import refuse_blank
from apps.core.choices import AccessAction
from apps.core.concurrency import VersionedUpdateMixin
from apps.core.scoping import HasModelPermission, ScopedViewSetMixin
from apps.core.services import access_log_record

from .. import exporting, selectors
from ..filters import VeteranFilterSet
from ..models import Code, FamilyMember, Veteran
from . import schema  # noqa: F401 (registers the schema of name-valued fields)
from .serializers import (
    CodeSerializer,
    FamilyMemberSerializer,
    VeteranSerializer,
    VeteranUpdateSerializer,
    attach_code_ids,
)


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
        refuse_blank(params, VeteranApiFilterSet.base_filters)
        filterset = selectors.veteran_filterset(user=request.user, params=params,
                                                snapshot=reference.snapshot(request))
        if filterset.is_bound and not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        view.filterset = filterset  # the list's access-log entry names its filters
        return view.with_related(filterset.qs)


BIGINT_MAX = 2**63 - 1


class VeteranCursorPagination(CursorPagination):
    """Newest first by id. A cursor that cannot be read, or ``page_size`` outside 1–200, answers 400 (DRF
    answers 404 for the first and ignores the second; a cursor whose position is no id was a 500)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise serializers.ValidationError({self.cursor_query_param: [gettext("Invalid cursor.")]}) from exc
        if cursor is not None and cursor.position is not None:
            try:
                position = int(cursor.position)
            except ValueError:
                position = -1
            if not 0 <= position <= BIGINT_MAX:
                raise serializers.ValidationError({self.cursor_query_param: [gettext("Invalid cursor.")]})
        return cursor

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError({self.page_size_query_param: [
                gettext("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}]})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            if parameter["name"] == self.cursor_query_param:  # opaque: a value taken from ``next``/``previous``
                parameter["schema"] = {"type": "string", "format": "drf-cursor"}
        return parameters


def list_rows_without_export() -> int:
    """Rows of one listing a caller without the export permission may read through the API."""
    return int(settings.API_LIST_MAX_ROWS_WITHOUT_EXPORT)


def veteran_list_page_check_and_log(*, request, queryset, page: list[Veteran], filterset) -> None:
    """The bulk-read rule of the API list, then its access-log entry (in the request's transaction).

    Without ``registry.export_veteran`` a caller may read the first ``API_LIST_MAX_ROWS_WITHOUT_EXPORT`` rows
    of a listing (its filters, newest first): the rows up to the end of this page are counted (capped, on
    the id index) and past the limit the page is refused. The rule is on the user's permissions, so a token
    and a session are held to it alike. Each page served is logged like an export: who, filters, rows."""
    user = request.user
    limit = list_rows_without_export()
    may_export = user.has_perm(exporting.EXPORT_PERMISSION)
    detail = {"api": "veterans", "filters": dict(exporting.export_params(request.query_params).lists()),
              "filters_shown": exporting.describe_filters(filterset) if filterset is not None else [],
              "rows": len(page), "ids": [veteran.pk for veteran in page],
              "cursor": bool(request.query_params.get("cursor"))}
    if not may_export and page:
        through = queryset.filter(pk__gte=min(veteran.pk for veteran in page)).order_by()[: limit + 1].count()
        detail["rows_through_page"] = through
        if through > limit:
            raise PermissionDenied(gettext(
                "Without the export permission the API gives at most %(limit)d records of one list: narrow the "
                "filters, or ask for an export.") % {"limit": limit})
    entry = access_log_record(user=user, action=AccessAction.EXPORT, request=request, detail=detail,
                              object_repr=gettext("Veteran list (API)"))
    # Named like an export's records, so the page shows on each person's "who viewed or exported" tab.
    exporting.exported_records_link(entry=entry, ids=array("q", detail["ids"]))


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

    def get_serializer_class(self):
        return VeteranUpdateSerializer if self.action in ("update", "partial_update") else VeteranSerializer

    def with_related(self, queryset):
        # One query for the rows (the encrypted number is never shown), one per many-to-many (ids only,
        # serializers.attach_code_ids); code and unit names come from one look-up each (context_map), not
        # from joins: constant in the page size, and a plan PostgreSQL finds quickly (fifteen joins would
        # hand it to the genetic optimizer).
        return queryset.defer("id_number_encrypted")

    def get_queryset(self):
        return self.with_related(super().get_queryset())

    filterset = None

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        veteran_list_page_check_and_log(request=request, queryset=queryset, page=page, filterset=self.filterset)
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

    def log_read(self, members: list[FamilyMember]) -> None:
        """Family members (names, ID numbers, phones) are personal data of the veteran's record: each read is
        written to the access log on the veteran, so it shows on their "who viewed" tab."""
        access_log_record(user=self.request.user, action=AccessAction.VIEW, obj=self.veteran, request=self.request,
                          detail={"api": "family", "family_members": [member.pk for member in members]})

    def list(self, request, *args, **kwargs):
        members = list(self.get_queryset())
        self.log_read(members)
        return Response(self.get_serializer(members, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        member = self.get_object()
        self.log_read([member])
        return Response(self.get_serializer(member).data)

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
