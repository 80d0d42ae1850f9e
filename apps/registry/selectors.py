"""Reads of the registry: every one takes the acting user and starts from ``visible_to``."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.models import AccessLog, User

from .filters import VeteranFilterSet
from .models import Veteran

# Columns the list page reads (sort keys included, for the keyset cursor).
LIST_COLUMNS_ONLY = ("id", "name", "name_pinyin", "sex", "birth_date", "id_number_masked", "phone", "status",
                     "discharge_date", "org_unit__name", "primary_category__name", "discharge_mode__name")


def veteran_filterset(*, user: User, params) -> VeteranFilterSet:
    return VeteranFilterSet(params or None, queryset=Veteran.objects.visible_to(user), user=user)


def veteran_list(*, user: User, params) -> QuerySet[Veteran]:
    """The records a user may see, filtered, searched and ordered as the page or API asked."""
    return veteran_filterset(user=user, params=params).qs


def veteran_detail(*, user: User, pk: int) -> Veteran:
    return (
        Veteran.objects.visible_to(user)
        .select_related("org_unit", "ethnic", "political", "education", "marital", "health", "primary_category",
                        "branch", "military_category", "rank", "discharge_mode", "certificate_type",
                        "placement_unit_nature", "employment", "created_by")
        .prefetch_related("categories", "tags")
        .get(pk=pk)
    )


def veteran_access_log(*, user: User, veteran: Veteran) -> QuerySet[AccessLog]:
    """Who viewed, revealed or exported this record (visible to those who may see the record)."""
    from django.contrib.contenttypes.models import ContentType

    return (AccessLog.objects.filter(content_type=ContentType.objects.get_for_model(Veteran), object_id=str(veteran.pk))
            .select_related("user").order_by("-created_at"))


def veteran_history(*, veteran: Veteran):
    """The record's change history (pghistory events), newest first, with who made each change."""
    from pghistory.models import MiddlewareEvents

    return MiddlewareEvents.objects.tracks(veteran).order_by("-pgh_created_at")
