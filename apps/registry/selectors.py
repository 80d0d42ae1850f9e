"""Reads of the registry: every one takes the acting user and starts from ``visible_to``."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import reference
from apps.core.choices import AccessAction
from apps.core.models import AccessLog, User

from .choices import VeteranStatus
from .filters import IdSearch, VeteranFilterSet
from .models import Code, ExportedVeteran, Veteran

# Columns the list page reads (sort keys included, for the keyset cursor). Unit and code names come from
# the reference snapshot, not from joins.
LIST_COLUMNS_ONLY = ("id", "name", "name_pinyin", "sex", "birth_date", "id_number_masked", "phone", "status",
                     "discharge_date", "org_unit_id", "primary_category_id", "discharge_mode_id")


def veteran_filterset(*, user: User, params, snapshot: reference.Snapshot | None = None,
                      id_search: IdSearch | None = None) -> VeteranFilterSet:
    """The FilterSet over the user's records, scoped by the ids of their units (from the snapshot: a literal list
    the planner can count, not a sub-select on the unit tree). ``id_search``: a search by full ID number."""
    snapshot = snapshot or reference.snapshot()
    return VeteranFilterSet(params or None, queryset=Veteran.objects.visible_to(user, units=snapshot.units), user=user,
                            snapshot=snapshot, id_search=id_search)


def attach_names(rows, snapshot: reference.Snapshot) -> None:
    """Give list rows what the table (``tables.VeteranTable``) shows, ready to print: unit, category and
    discharge-mode names from the snapshot (no join), the link, the birth date and the labels of sex and status."""
    from django.urls import reverse

    from .choices import Sex, VeteranStatus

    units, code_name = snapshot.unit_by_pk, snapshot.code_name
    marker = 987654321
    link = reverse("registry:veteran_detail", args=[marker])
    sexes, statuses = dict(Sex.choices), dict(VeteranStatus.choices)
    for row in rows:
        unit = units.get(row.org_unit_id)
        row.unit_name = unit.name if unit is not None else ""
        row.category_name = code_name(row.primary_category_id)
        row.discharge_mode_name = code_name(row.discharge_mode_id)
        row.url = link.replace(str(marker), str(row.pk))
        row.birth_text = row.birth_date.isoformat() if row.birth_date else ""
        row.sex_label = sexes.get(row.sex, row.sex)
        row.closed_label = "" if row.status == VeteranStatus.ACTIVE else statuses.get(row.status, row.status)


def veteran_list(*, user: User, params) -> QuerySet[Veteran]:
    """The records a user may see, filtered, searched and ordered as the page or API asked."""
    return veteran_filterset(user=user, params=params).qs


def veteran_detail(*, user: User, pk: int, snapshot: reference.Snapshot | None = None) -> Veteran:
    """One record with its unit, codes, categories and tags: one query for the row (the ids of its
    categories and tags as arrays), the rest from the reference snapshot. A fifteen-table join cost more to
    plan than to run. ``unit_full_name`` is the unit's path from the district down."""
    snapshot = snapshot or reference.snapshot()
    through_categories, through_tags = Veteran.categories.through, Veteran.tags.through
    veteran = (
        Veteran.objects.visible_to(user)
        .select_related("created_by")
        .annotate(category_ids=ArraySubquery(through_categories.objects.filter(veteran_id=OuterRef("pk"))
                                             .order_by("code_id").values("code_id")),
                  tag_ids=ArraySubquery(through_tags.objects.filter(veteran_id=OuterRef("pk"))
                                        .order_by("code_id").values("code_id")))
        .get(pk=pk)
    )
    codes = snapshot.codes
    for field in CODE_FIELDS:
        code_pk = getattr(veteran, field.attname)
        if code_pk is not None and code_pk in codes:
            field.set_cached_value(veteran, copy.copy(codes[code_pk]))
    unit = snapshot.unit_by_pk.get(veteran.org_unit_id)
    if unit is not None:
        Veteran.org_unit.field.set_cached_value(veteran, copy.copy(unit))
        veteran.unit_full_name = snapshot.full_name(unit.pk)
    else:  # a unit added since the snapshot was read: the ordinary way
        veteran.unit_full_name = veteran.org_unit.full_name
    _set_prefetched(veteran, "categories", [codes[c] for c in veteran.category_ids if c in codes])
    _set_prefetched(veteran, "tags", [codes[c] for c in veteran.tag_ids if c in codes])
    return veteran


CODE_FIELDS = [f for f in Veteran._meta.concrete_fields if f.is_relation and f.related_model is Code]


def person_or_404(request, pk: int) -> Veteran:
    """The one person loader of every app's person pages and tabs (registry, care, honours…): the record in the
    user's scope, with its unit and codes (``veteran_detail``), or a 404 (missing or out of scope alike)."""
    from apps.core.views.kit import selector_or_404

    return selector_or_404(veteran_detail, user=request.user, pk=pk, snapshot=reference.snapshot(request))


def _set_prefetched(veteran: Veteran, name: str, objects: list) -> None:
    """Fill ``veteran.<name>.all()`` as prefetch_related would, without its query."""
    queryset = getattr(veteran, name).all()
    queryset._result_cache = sorted(objects, key=lambda c: (c.sort_order, c.code))
    queryset._prefetch_done = True
    if not hasattr(veteran, "_prefetched_objects_cache"):
        veteran._prefetched_objects_cache = {}
    veteran._prefetched_objects_cache[name] = queryset


ACCESS_PAGE = 50


def veteran_access_log(*, user: User, veteran: Veteran, before: str = "") -> tuple[list[AccessLog], str]:
    """Who viewed, revealed, searched or exported this record (exports that contained it included; shown to those
    who may see the record), newest first, fifty
    at a time (``apps.core.lists.paging.keyset_page``): the entries after the ``before`` cursor in that order, and the cursor of
    the next fifty ("" at the end; an unreadable cursor starts from the newest)."""
    from django.contrib.contenttypes.models import ContentType

    from apps.core.lists.paging import keyset_page

    about = Q(content_type=ContentType.objects.get_for_model(Veteran), object_id=str(veteran.pk))
    # Exports that contained the person: their entries' ids first (an index-only scan of the link table), then one
    # bitmap OR of the two indexes (an ``IN (subquery)`` would be a filter over every entry of the log).
    exported = list(ExportedVeteran.objects.filter(veteran_id=veteran.pk).values_list("entry_id", flat=True))
    if exported:
        about |= Q(pk__any_of=exported)
    entries = AccessLog.objects.filter(about).select_related("user").order_by("-created_at", "-id")
    page = keyset_page(entries, {"after": before}, size=ACCESS_PAGE, count_cap=None)  # the tab shows no total
    for entry in page.rows:
        entry.what = access_entry_what(entry)
    return page.rows, page.next_cursor


# Detail keys of access-log entries about a person (the first present names what was read).
ACCESS_WHAT = [("photo", gettext_lazy("Visit photo")), ("visit", gettext_lazy("Visit record")),
               ("plaque_photo", gettext_lazy("Signed plaque register (photo)")),
               ("plaque", gettext_lazy("Honor plaque record")),
               ("notice_photo", gettext_lazy("Signed merit notice receipt (photo)")),
               ("notice", gettext_lazy("Merit notice record")), ("attachment", gettext_lazy("Document scan")),
               ("form", gettext_lazy("Edit form")), ("id_number", gettext_lazy("Search by ID number"))]


def veteran_opened_lately(*, user: User, veteran: Veteran) -> bool:
    """Whether ``user``'s opening of this record is already in the access log (within a session's idle time): the
    tabs of one visit to the person page are not logged again."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    since = timezone.now() - timezone.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    return AccessLog.objects.filter(content_type=ContentType.objects.get_for_model(Veteran), object_id=str(veteran.pk),
                                    created_at__gte=since, user=user, action=AccessAction.VIEW,
                                    detail={}).exists()


def access_entry_what(entry: AccessLog) -> str:
    """What an entry of the person's tab read: the page, a visit, a photo, an export of n records…"""
    detail = entry.detail or {}
    if entry.action == AccessAction.EXPORT:
        return _("Veteran list export (%(n)s records)") % {"n": detail.get("rows", "?")}
    for key, label in ACCESS_WHAT:
        if key in detail:
            return str(label)
    return ""


def veteran_history(*, veteran: Veteran):
    """The record's change history (pghistory events), newest first, with who made each change."""
    from pghistory.models import MiddlewareEvents

    return MiddlewareEvents.objects.tracks(veteran).order_by("-pgh_created_at")


VETERAN_SET_EVENTS = {"categories": "registry.VeteranCategoriesEvent", "tags": "registry.VeteranTagsEvent"}


def veteran_set_changes(*, veteran: Veteran):
    """Who added or removed the person's collection categories and tags, and when (newest first)."""
    from apps.core.history import set_changes

    return set_changes(veteran, VETERAN_SET_EVENTS)


# --- rules shared by the figures (apps/registry/figures.py) and the list's filters ---------------------------


def day_end(day: date) -> datetime:
    """The first moment after ``day`` in local time (timestamps before it were written on or before that day)."""
    return datetime.combine(day + timedelta(days=1), time.min, timezone.get_current_timezone())


def on_register_q(day: date, prefix: str = "") -> Q:
    """People on the register at the end of ``day``: the record was created by then, and it is on the register now
    or it left (moved out, died, cancelled) after that day. A closed record without a date is taken as gone.

    A record closed by mistake and restored counts as on the register throughout (the record keeps no earlier
    status). ``prefix``: the path to the person from another model (``veteran__``)."""
    return Q(**{f"{prefix}created_at__lt": day_end(day)}) & (
        Q(**{f"{prefix}status": VeteranStatus.ACTIVE}) | Q(**{f"{prefix}status_date__gt": day}))


def complete_q(prefix: str = "") -> Q:
    """A record whose required fields are filled (资料完整): name, ID number, sex and birth date (always there:
    the service refuses a record without them), phone, residential address, enlistment and discharge dates and at
    least one collection category (the main one or any other)."""
    through = Veteran.categories.through
    person = OuterRef(f"{prefix}pk") if prefix else OuterRef("pk")
    return (~Q(**{f"{prefix}name": ""}) & ~Q(**{f"{prefix}phone": ""}) & ~Q(**{f"{prefix}address": ""})
            & Q(**{f"{prefix}enlist_date__isnull": False}) & Q(**{f"{prefix}discharge_date__isnull": False})
            & (Q(**{f"{prefix}primary_category__isnull": False}) | Q(Exists(through.objects.filter(veteran=person)))))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
