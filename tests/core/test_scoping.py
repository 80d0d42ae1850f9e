"""Region scoping: ``Model.objects.visible_to(user)`` decides every row a user may see.

Tree (tests/conftest.py): district D → street A (villages A1, A2) and street B (village B1).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.core.choices import AccessAction, Role
from apps.core.models import AccessLog, Notification, OrgUnit, User
from apps.core.querysets import ScopedQuerySet, scoped_queryset

ALL_UNITS = {"district", "street_a", "street_b", "village_a1", "village_a2", "village_b1"}
DISTRICT_WIDE = ["admin", "leader", "bureau"]


def unit_names(qs, tree) -> set[str]:
    by_pk = {unit.pk: name for name, unit in tree.items()}
    return {by_pk[pk] for pk in qs.values_list("pk", flat=True)}


def usernames(qs) -> set[str]:
    return set(qs.values_list("username", flat=True))


@pytest.fixture
def nobody(make_user) -> User:
    """A user with neither a unit nor a role."""
    return make_user(None, None, "nobody")


# --- OrgUnit --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("village_a1", {"village_a1"}),
        ("village_a2", {"village_a2"}),
        ("village_b1", {"village_b1"}),
        ("street_a", {"street_a", "village_a1", "village_a2"}),
        ("street_b", {"street_b", "village_b1"}),
        ("admin", ALL_UNITS),
        ("leader", ALL_UNITS),
        ("bureau", ALL_UNITS),
        ("enterprise", set()),
    ],
)
def test_orgunit_visible_to(users, tree, who, expected):
    assert unit_names(OrgUnit.objects.visible_to(users[who]), tree) == expected


def test_sibling_villages_do_not_see_each_other(users, tree):
    assert not OrgUnit.objects.visible_to(users["village_a1"]).filter(pk=tree["village_a2"].pk).exists()
    assert not OrgUnit.objects.visible_to(users["village_a2"]).filter(pk=tree["village_a1"].pk).exists()


def test_sibling_streets_do_not_see_each_other_or_their_children(users, tree):
    seen_by_a = OrgUnit.objects.visible_to(users["street_a"])
    assert not seen_by_a.filter(pk__in=[tree["street_b"].pk, tree["village_b1"].pk]).exists()
    seen_by_b = OrgUnit.objects.visible_to(users["street_b"])
    assert not seen_by_b.filter(pk__in=[tree["street_a"].pk, tree["village_a1"].pk, tree["village_a2"].pk]).exists()


def test_child_does_not_see_parent_or_district(users, tree):
    seen = OrgUnit.objects.visible_to(users["village_a1"])
    assert not seen.filter(pk__in=[tree["street_a"].pk, tree["district"].pk]).exists()


def test_unit_code_prefix_is_not_scope(users, tree, make_user):
    """Scope follows the tree path, not the division code: a unit whose code merely shares the
    prefix of street A, but hangs under street B, stays invisible to street A."""
    from apps.core.services import orgunit_create

    b2 = orgunit_create(actor=None, parent=tree["street_b"], code="320111002002", name="乙二村")
    assert not OrgUnit.objects.visible_to(users["street_a"]).filter(pk=b2.pk).exists()
    assert OrgUnit.objects.visible_to(users["street_b"]).filter(pk=b2.pk).exists()


def test_user_without_unit_or_role_sees_no_units(users, nobody):
    assert OrgUnit.objects.visible_to(nobody).count() == 0


def test_station_role_without_unit_sees_nothing(tree, make_user):
    # Forms refuse this combination; the data layer must still deny by default.
    homeless = make_user(Role.VILLAGE_STATION, None, "homeless")
    assert OrgUnit.objects.visible_to(homeless).count() == 0
    assert User.objects.visible_to(homeless).count() == 0


def test_unit_without_station_role_sees_nothing(tree, make_user):
    enterprise_in_unit = make_user(Role.ENTERPRISE, tree["village_a1"], "ent_a1")
    assert OrgUnit.objects.visible_to(enterprise_in_unit).count() == 0
    assert User.objects.visible_to(enterprise_in_unit).count() == 0


def test_inactive_users_see_nothing(users):
    for name in ["admin", "street_a", "village_a1"]:
        user = users[name]
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert OrgUnit.objects.visible_to(user).count() == 0, name
        assert User.objects.visible_to(user).count() == 0, name
        assert Notification.objects.visible_to(user).count() == 0, name
        assert AccessLog.objects.visible_to(user).count() == 0, name


def test_anonymous_and_none_see_nothing(users):
    for who in (AnonymousUser(), None):
        assert OrgUnit.objects.visible_to(who).count() == 0
        assert User.objects.visible_to(who).count() == 0
        assert Notification.objects.visible_to(who).count() == 0
        assert AccessLog.objects.visible_to(who).count() == 0


def test_superuser_sees_whole_district(tree, users):
    root = User.objects.create_superuser("root", "root@example.com", "Root#Passw0rd12")
    assert unit_names(OrgUnit.objects.visible_to(root), tree) == ALL_UNITS
    assert User.objects.visible_to(root).count() == User.objects.count()


# --- User -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("village_a1", {"village_a1"}),
        ("village_a2", {"village_a2"}),
        ("street_a", {"street_a", "village_a1", "village_a2"}),
        ("street_b", {"street_b", "village_b1"}),
        ("enterprise", set()),
    ],
)
def test_user_visible_to_stations(users, who, expected):
    assert usernames(User.objects.visible_to(users[who])) == expected


@pytest.mark.parametrize("who", DISTRICT_WIDE)
def test_district_roles_see_all_users(users, who):
    # Including users without a unit (the enterprise contact).
    assert usernames(User.objects.visible_to(users[who])) == set(users)


def test_user_without_unit_or_role_sees_no_users(users, nobody):
    assert User.objects.visible_to(nobody).count() == 0


# --- Notification ---------------------------------------------------------------------------


def test_notifications_are_visible_to_their_recipient_only(users):
    mine = Notification.objects.create(recipient=users["village_a1"], title="甲一")
    Notification.objects.create(recipient=users["village_a2"], title="甲二")
    assert list(Notification.objects.visible_to(users["village_a1"])) == [mine]
    # Not even the parent street or the administrator reads another user's messages.
    for who in ["street_a", "admin", "leader", "village_a2"]:
        assert not Notification.objects.visible_to(users[who]).filter(pk=mine.pk).exists(), who


# --- AccessLog ------------------------------------------------------------------------------


def test_access_log_is_visible_to_audit_reviewers_only(users):
    entry = AccessLog.objects.create(user=users["village_a1"], action=AccessAction.VIEW, object_repr="x")
    assert list(AccessLog.objects.visible_to(users["admin"])) == [entry]
    for who in ["leader", "bureau", "street_a", "village_a1", "enterprise"]:
        assert AccessLog.objects.visible_to(users[who]).count() == 0, who


# --- the generic building block -------------------------------------------------------------


def test_scoped_queryset_follows_a_lookup_path(users):
    """``scoped_queryset(field)`` scopes any model by a path to its OrgUnit (here via the recipient)."""
    NotificationByUnit = scoped_queryset("recipient__org_unit")
    assert issubclass(NotificationByUnit, ScopedQuerySet)
    assert NotificationByUnit.scope_field == "recipient__org_unit"
    for name in ["village_a1", "village_a2", "street_a", "street_b", "enterprise"]:
        Notification.objects.create(recipient=users[name], title=name)

    def titles(user) -> set[str]:
        return set(NotificationByUnit(Notification).visible_to(user).values_list("title", flat=True))

    assert titles(users["village_a1"]) == {"village_a1"}
    assert titles(users["street_a"]) == {"street_a", "village_a1", "village_a2"}
    assert titles(users["street_b"]) == {"street_b"}
    assert titles(users["leader"]) == {"village_a1", "village_a2", "street_a", "street_b", "enterprise"}
    assert titles(users["enterprise"]) == set()
    assert titles(AnonymousUser()) == set()


def test_visible_to_is_one_query_and_composable(users, django_assert_num_queries):
    """The subtree is a subquery, not a Python-side id list: one query, still filterable."""
    qs = User.objects.visible_to(users["street_a"]).filter(username__startswith="village")
    with django_assert_num_queries(1):
        assert set(qs.values_list("username", flat=True)) == {"village_a1", "village_a2"}


# --- visible_unit_ids: the pure-Python rule, against visible_to -----------------------------------


def test_visible_unit_ids_matches_visible_to_for_every_role(users, tree, nobody, make_user, django_assert_num_queries):
    from apps.core import reference
    from apps.core.querysets import visible_unit_ids

    inactive = make_user(Role.STREET_STATION, tree["street_a"], "inactive_street")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    no_unit_station = make_user(Role.VILLAGE_STATION, None, "unitless_village")
    people = [*users.values(), nobody, inactive, no_unit_station, AnonymousUser(), None]
    assert {role for user in users.values() for role in user.role_names} == set(Role.values)  # every role
    units = reference.snapshot().units
    for user in people:
        expected = set(OrgUnit.objects.visible_to(user).values_list("pk", flat=True))
        with django_assert_num_queries(0):
            found = visible_unit_ids(user, units)
        assert found == expected, user
        # A scoped model's rows through the unit ids agree with the subquery on the tree.
        assert set(User.objects.visible_to(user, units=units).values_list("pk", flat=True)) == set(
            User.objects.visible_to(user).values_list("pk", flat=True)), user
