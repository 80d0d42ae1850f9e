"""The honours services: validation, the care life event and due visit a notice creates, the visit that
closes it, plaques as visits, notices and plaques following a transfer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.care import services as care_services
from apps.care.choices import TaskStatus, VisitMode
from apps.care.models import DueVisit, LifeEvent, Visit
from apps.honors import services
from apps.honors.models import MeritNotice, PlaqueRecord
from apps.registry import services as registry_services
from tests.honors.factories import days_ago, deliver, image, make_notice, make_plaque
from tests.registry.factories import id_number, make_veteran

pytestmark = pytest.mark.django_db


@pytest.fixture
def veteran(tree):
    return make_veteran(tree["village_a1"], name="王军属", id_number=id_number("19700315"))


def field_errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


# --- 光荣牌 ------------------------------------------------------------------------------------------


def test_plaque_record_keeps_the_register_and_logs_a_home_visit(veteran, users):
    record = make_plaque(veteran, actor=users["village_a1"], action="replace", kind="military_family",
                         note="旧牌褪色")
    record.refresh_from_db()
    assert record.org_unit == veteran.org_unit
    assert record.created_by == users["village_a1"]
    assert record.signature.name.startswith("honors/plaques/") and record.signature.name.endswith(".png")
    assert "signature" not in record.signature.name  # the uploaded name is not kept on disk
    visit = record.visit
    assert visit.occasion.code == "plaque" and visit.mode == VisitMode.HOME
    assert visit.date == record.date and visit.visitors == record.people
    assert record.events.count() == 1  # pghistory


def test_plaque_in_the_future_is_refused(veteran):
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, date=timezone.localdate() + timedelta(days=1))
    assert "date" in field_errors(exc)
    assert "不能晚于今天" in " ".join(field_errors(exc)["date"]) or "future" in " ".join(field_errors(exc)["date"])
    assert not PlaqueRecord.objects.exists() and not Visit.objects.exists()


def test_plaque_before_birth_is_refused(veteran):
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, date=date(1970, 3, 14))
    assert "date" in field_errors(exc)


@pytest.mark.parametrize("upload", [
    SimpleUploadedFile("signature.gif", b"GIF89a....", "image/gif"),
    SimpleUploadedFile("signature.pdf", b"%PDF-1.4", "application/pdf"),
    SimpleUploadedFile("signature.png", b"not an image at all", "image/png"),  # right name, wrong content
    SimpleUploadedFile("noextension", b"\x89PNG", "image/png"),
], ids=["gif", "pdf", "fake-png", "no-extension"])
def test_plaque_photo_must_be_a_real_jpg_or_png(veteran, upload):
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, signature=upload)
    assert set(field_errors(exc)) == {"signature"}


def test_plaque_photo_with_png_content_named_gif_is_refused(veteran):
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, signature=image("scan.gif"))
    assert "signature" in field_errors(exc)


def test_plaque_photo_size_limit(veteran, monkeypatch):
    monkeypatch.setattr(services, "PHOTO_MAX_BYTES", 100)
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, signature=image(size=(400, 400)))
    assert "signature" in field_errors(exc)


def test_plaque_photo_is_required(veteran):
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, signature=None)
    assert "signature" in field_errors(exc)


def test_plaque_jpeg_is_accepted(veteran):
    record = make_plaque(veteran, signature=image("IMG_0001.JPG", "JPEG"))
    assert record.signature.name.endswith(".jpg")


def test_plaque_needs_people_and_a_known_action(veteran):
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, people="  ")
    assert "people" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        make_plaque(veteran, action="remove")
    assert "action" in field_errors(exc)


def test_plaque_for_a_closed_record_is_refused(veteran):
    registry_services.veteran_close(actor=None, veteran=veteran, status="deceased", on=days_ago(10))
    with pytest.raises(ValidationError):
        make_plaque(veteran)


def test_plaque_closes_a_due_plaque_visit(veteran, tree):
    """A plaque hanging is the visit the station had to make for it (same occasion)."""
    from apps.care.models import Occasion, VisitRule

    rule = VisitRule.objects.create(name="测试光荣牌", kind="interval", interval_months=12,
                                    occasion=Occasion.objects.get(code="plaque"), everyone=True)
    care_services.people_recompute(ids=[veteran.pk])
    task = DueVisit.objects.get(veteran=veteran, rule=rule)
    record = make_plaque(veteran, date=max(task.opens_on, days_ago(1)))
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.visit == record.visit


# --- 立功喜报 ----------------------------------------------------------------------------------------


def test_registering_a_notice_records_a_life_event_and_a_due_delivery_visit(veteran, users,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(veteran, actor=users["village_a1"], award="second_class", notice_date=days_ago(2))
    assert notice.org_unit == veteran.org_unit and not notice.is_delivered
    event = notice.life_event
    assert event.occasion.code == "merit_notice" and event.date == notice.notice_date
    assert "张小军" in event.description
    task = DueVisit.objects.open().get(veteran=veteran, occasion__code="merit_delivery")
    assert task.life_event == event
    assert task.opens_on == notice.notice_date and task.due_date == notice.notice_date + timedelta(days=7)
    assert task.org_unit == veteran.org_unit


def test_the_due_visit_also_follows_from_a_recompute(veteran):
    notice = make_notice(veteran)  # no on-commit callbacks run here: recompute by hand
    care_services.people_recompute(ids=[veteran.pk])
    assert DueVisit.objects.open().filter(veteran=veteran, life_event=notice.life_event).count() == 1


def test_delivering_logs_the_visit_and_closes_the_due_visit(veteran, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(veteran)
    task = DueVisit.objects.open().get(veteran=veteran, occasion__code="merit_delivery")
    with django_capture_on_commit_callbacks(execute=True):
        notice = deliver(notice, actor=users["street_a"], delivered_on=days_ago(1), note="家属很高兴")
    notice.refresh_from_db()
    assert notice.is_delivered and notice.delivered_on == days_ago(1)
    assert notice.delivered_by == users["street_a"] and notice.delivered_at is not None
    assert notice.signature.name.startswith("honors/notices/")
    assert "家属很高兴" in notice.note
    visit = notice.visit
    assert visit.occasion.code == "merit_delivery" and visit.mode == VisitMode.HOME
    assert visit.visitors == "街道 王某, 人武部 李某" and visit.life_event == notice.life_event
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.visit == visit
    # A recompute does not bring the task back.
    care_services.people_recompute(ids=[veteran.pk])
    assert not DueVisit.objects.open().filter(veteran=veteran, occasion__code="merit_delivery").exists()


def test_a_notice_is_delivered_once(veteran):
    notice = deliver(make_notice(veteran))
    with pytest.raises(ValidationError, match="已送达"):
        deliver(notice)
    assert Visit.objects.filter(occasion__code="merit_delivery").count() == 1


def test_delivery_dates_are_checked(veteran):
    notice = make_notice(veteran, notice_date=days_ago(5))
    for day in (timezone.localdate() + timedelta(days=1), days_ago(6)):
        with pytest.raises(ValidationError) as exc:
            deliver(notice, delivered_on=day)
        assert set(field_errors(exc)) == {"delivered_on"}
    notice.refresh_from_db()
    assert not notice.is_delivered and not Visit.objects.exists()


def test_delivery_needs_deliverers_and_a_photo(veteran):
    notice = make_notice(veteran)
    with pytest.raises(ValidationError) as exc:
        deliver(notice, deliverers="")
    assert "deliverers" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        deliver(notice, signature=SimpleUploadedFile("receipt.txt", b"hello", "text/plain"))
    assert "signature" in field_errors(exc)


def test_notice_validation(veteran):
    with pytest.raises(ValidationError) as exc:
        make_notice(veteran, notice_date=timezone.localdate() + timedelta(days=1))
    assert "notice_date" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        make_notice(veteran, notice_date=date(1960, 1, 1))
    assert "notice_date" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        make_notice(veteran, member_name=" ")
    assert "member_name" in field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        make_notice(veteran, award="嘉奖")
    assert "award" in field_errors(exc)
    assert not MeritNotice.objects.exists() and not LifeEvent.objects.exists()


def test_messages_are_in_chinese(veteran):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        make_plaque(veteran, signature=SimpleUploadedFile("a.gif", b"GIF89a", "image/gif"))
    assert "JPG" in field_errors(exc)["signature"][0]


def test_notices_and_plaques_follow_a_transfer(veteran, tree):
    """Delivered or not, with the plaques: everything follows the person, in the transfer's transaction
    (no on-commit callback needed). Pages and files: tests/care/test_transfer_follow.py."""
    delivered = deliver(make_notice(veteran, member_name="甲"))
    open_notice = make_notice(veteran, member_name="乙")
    plaque = make_plaque(veteran)
    registry_services.veteran_transfer(actor=None, veteran=veteran, to_unit=tree["village_b1"], on=days_ago(0))
    open_notice.refresh_from_db()
    delivered.refresh_from_db()
    plaque.refresh_from_db()
    assert open_notice.org_unit == tree["village_b1"]
    assert delivered.org_unit == tree["village_b1"] and plaque.org_unit == tree["village_b1"]


def test_scoped_managers(veteran, users, tree):
    plaque = make_plaque(veteran)
    notice = make_notice(veteran)
    for who, sees in [("village_a1", True), ("street_a", True), ("leader", True), ("village_a2", False),
                      ("street_b", False), ("enterprise", False)]:
        assert PlaqueRecord.objects.visible_to(users[who]).filter(pk=plaque.pk).exists() is sees, who
        assert MeritNotice.objects.visible_to(users[who]).filter(pk=notice.pk).exists() is sees, who


def test_delivery_before_the_recompute_ran_leaves_no_open_task(veteran, django_capture_on_commit_callbacks):
    """Registered and delivered in one transaction (as the demo does, or with the recompute still queued):
    the delivery task is made and closed at delivery, and the late recompute adds nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(veteran)
        deliver(notice)
    tasks = DueVisit.objects.filter(veteran=veteran, occasion__code="merit_delivery")
    assert [t.status for t in tasks] == [TaskStatus.DONE]


def test_demo_seed_is_idempotent(tree, users, django_capture_on_commit_callbacks):
    from io import StringIO

    from apps.core.services import orgunit_create
    from apps.honors import demo

    out = StringIO()
    assert demo.seed(veterans=0, seed=1, stdout=out) == 0  # no demo street in the test tree
    street = orgunit_create(actor=None, parent=tree["district"], code=demo.DEMO_STREET, name="星甸街道")
    village = orgunit_create(actor=None, parent=street, code="320111008002", name="高庙社区")
    for i in range(9):
        make_veteran(village, name=f"演示{i}", id_number=id_number(f"19{60 + i}0101"))
    with django_capture_on_commit_callbacks(execute=True):
        assert demo.seed(veterans=9, seed=1, stdout=out) == 8
    assert PlaqueRecord.objects.count() == 5
    assert MeritNotice.objects.filter(delivered_on__isnull=False).count() == 2
    open_notice = MeritNotice.objects.get(delivered_on__isnull=True)
    assert DueVisit.objects.open().filter(life_event=open_notice.life_event).count() == 1
    # Delivered notices leave no open delivery task behind.
    assert DueVisit.objects.open().filter(occasion__code="merit_delivery").count() == 1
    assert demo.seed(veterans=9, seed=1, stdout=out) == 0
    assert PlaqueRecord.objects.count() == 5 and MeritNotice.objects.count() == 3
