"""The status of a record follows a state machine (issue 10, finding 7): 在册 → 去世/注销 → 在册 (restore undoes
a close made in error), 在册 → 迁出. A moved-out record is not restored, a closed one not closed again."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pghistory.models import Events

from apps.registry import services
from apps.registry.choices import VeteranStatus
from apps.registry.models import Veteran
from tests.conftest import login
from tests.registry.factories import make_veteran


def _state(veteran):
    row = Veteran.objects.get(pk=veteran.pk)
    return row.status, row.status_date, row.status_reason


def test_a_moved_out_record_is_not_restored(tree, users):
    veteran = make_veteran(tree["village_a1"])
    services.veteran_transfer(actor=users["village_a1"], veteran=veteran, to_unit=None, on=date.today(),
                              destination="南京市鼓楼区")
    before = _state(veteran)
    with pytest.raises(ValidationError) as refused:
        services.veteran_restore(actor=users["village_a1"], veteran=veteran)
    assert "迁出" in refused.value.messages[0] and "迁入" in refused.value.messages[0]
    assert _state(veteran) == before


def test_a_closed_record_is_not_closed_again(tree, users):
    veteran = make_veteran(tree["village_a1"])
    first = date.today() - timedelta(days=3)
    services.veteran_close(actor=users["village_a1"], veteran=veteran, status="deceased", on=first, reason="病故")
    events = Events.objects.tracks(veteran).count()
    with pytest.raises(ValidationError) as refused:
        services.veteran_close(actor=users["village_a1"], veteran=veteran, status="cancelled", on=date.today(),
                               reason="重复")
    assert "已" in refused.value.messages[0] and "去世" in refused.value.messages[0]
    assert _state(veteran) == (VeteranStatus.DECEASED, first, "病故")
    assert Events.objects.tracks(veteran).count() == events  # nothing written


def test_a_moved_out_record_is_not_closed_and_an_active_one_not_restored(tree, users):
    active = make_veteran(tree["village_a1"])
    with pytest.raises(ValidationError):
        services.veteran_restore(actor=users["village_a1"], veteran=active)
    moved = make_veteran(tree["village_a1"], name="李四")
    services.veteran_transfer(actor=users["village_a1"], veteran=moved, to_unit=None, on=date.today(),
                              destination="外省")
    with pytest.raises(ValidationError):
        services.veteran_close(actor=users["village_a1"], veteran=moved, status="deceased", on=date.today())
    assert Veteran.objects.get(pk=moved.pk).status == VeteranStatus.MOVED_OUT


def test_restore_undoes_a_close(tree, users):
    veteran = make_veteran(tree["village_a1"])
    services.veteran_close(actor=users["village_a1"], veteran=veteran, status="cancelled", on=date.today())
    services.veteran_restore(actor=users["village_a1"], veteran=veteran)
    assert Veteran.objects.get(pk=veteran.pk).status == VeteranStatus.ACTIVE


def test_pages_refuse_in_chinese_and_offer_only_allowed_steps(client, tree, users):
    veteran = make_veteran(tree["village_a1"])
    services.veteran_transfer(actor=users["village_a1"], veteran=veteran, to_unit=None, on=date.today(),
                              destination="南京市鼓楼区")
    login(client, users["village_a1"])
    page = client.get(reverse("registry:veteran_detail", args=[veteran.pk])).content.decode()
    assert reverse("registry:veteran_restore", args=[veteran.pk]) not in page
    response = client.post(reverse("registry:veteran_restore", args=[veteran.pk]), follow=True)
    assert response.status_code == 200
    assert "迁出的记录不能恢复" in response.content.decode()
    assert Veteran.objects.get(pk=veteran.pk).status == VeteranStatus.MOVED_OUT

    closed = make_veteran(tree["village_a1"], name="王五")
    services.veteran_close(actor=users["village_a1"], veteran=closed, status="deceased", on=date.today())
    response = client.post(reverse("registry:veteran_close", args=[closed.pk]),
                           {"status": "cancelled", "date": date.today().isoformat()})
    assert response.status_code == 200
    assert "不能再次关闭" in response.content.decode()
    assert Veteran.objects.get(pk=closed.pk).status == VeteranStatus.DECEASED
