"""Reads of the honours registers: every one takes the acting user and starts from ``visible_to``."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.models import User
from apps.registry.models import Veteran

from .filters import MeritNoticeFilterSet, PlaqueRecordFilterSet
from .models import MeritNotice, PlaqueRecord


def plaque_filterset(*, user: User, params) -> PlaqueRecordFilterSet:
    return PlaqueRecordFilterSet(params or None, queryset=PlaqueRecord.objects.visible_to(user), user=user)


def plaque_list(*, user: User, params) -> QuerySet[PlaqueRecord]:
    return plaque_filterset(user=user, params=params).qs.select_related("veteran", "org_unit")


def plaque_detail(*, user: User, pk: int) -> PlaqueRecord:
    return (PlaqueRecord.objects.visible_to(user)
            .select_related("veteran", "org_unit", "created_by", "visit").get(pk=pk))


def notice_filterset(*, user: User, params) -> MeritNoticeFilterSet:
    return MeritNoticeFilterSet(params or None, queryset=MeritNotice.objects.visible_to(user), user=user)


def notice_list(*, user: User, params) -> QuerySet[MeritNotice]:
    return notice_filterset(user=user, params=params).qs.select_related("veteran", "org_unit")


def notice_detail(*, user: User, pk: int) -> MeritNotice:
    return (MeritNotice.objects.visible_to(user)
            .select_related("veteran", "org_unit", "created_by", "delivered_by", "visit").get(pk=pk))


def person_honours(*, user: User, veteran: Veteran) -> dict:
    """The person tab: this person's plaques and notices the user may see."""
    return {
        "plaques": PlaqueRecord.objects.visible_to(user).filter(veteran=veteran).select_related("org_unit"),
        "notices": MeritNotice.objects.visible_to(user).filter(veteran=veteran).select_related("org_unit"),
    }
