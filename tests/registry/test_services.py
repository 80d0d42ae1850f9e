"""Registry services: encryption and blind index, duplicates, masking and reveal logging, transfers, history."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from pghistory.models import Events

from apps.core.models import AccessLog
from apps.registry import crypto, services
from apps.registry.choices import VeteranStatus
from apps.registry.models import Transfer, Veteran
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran


def test_id_number_is_encrypted_at_rest_and_indexed(tree):
    number = id_number("19800101")
    veteran = make_veteran(tree["village_a1"], id_number=number)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_encrypted, id_number_hash FROM registry_veteran WHERE id = %s", [veteran.pk])
        stored, digest = cursor.fetchone()
    assert number not in stored and number[6:14] not in stored
    assert digest == crypto.blind_index(number) and number not in digest
    assert Veteran.objects.get(pk=veteran.pk).id_number == number
    assert veteran.id_number_masked == number[:6] + "********" + number[-4:]


def test_the_same_person_cannot_be_registered_twice(tree, users):
    number = id_number("19790505")
    make_veteran(tree["village_a1"], id_number=number)
    # The owner's street sees the record: the message names the unit.
    with pytest.raises(ValidationError) as seen:
        make_veteran(tree["village_a1"], id_number=number, actor=users["street_a"])
    assert "甲一社区" in str(seen.value.message_dict["id_number"])
    # A station of the other street does not: the unit is not revealed.
    with pytest.raises(ValidationError) as hidden:
        make_veteran(tree["village_b1"], id_number=number, actor=users["village_b1"])
    assert "甲一社区" not in str(hidden.value.message_dict["id_number"])
    # An old 15-digit form of the same number is the same person.
    old = number[:6] + number[8:17]
    with pytest.raises(ValidationError):
        make_veteran(tree["village_a1"], id_number=old)
    assert Veteran.objects.count() == 1


def test_sex_or_birth_date_contradicting_the_id_is_an_error(tree):
    number = id_number("19800101", sequence=13)  # male
    with pytest.raises(ValidationError) as exc:
        make_veteran(tree["village_a1"], id_number=number, sex="F")
    assert "sex" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_veteran(tree["village_a1"], id_number=number, birth_date=date(1980, 1, 2))
    assert "birth_date" in exc.value.message_dict


def test_a_station_cannot_register_outside_its_area(tree, users):
    with pytest.raises(ValidationError) as exc:
        make_veteran(tree["village_a2"], actor=users["village_a1"])
    assert "org_unit" in exc.value.message_dict


def test_pinyin_is_derived_from_the_name(tree, users):
    veteran = make_veteran(tree["village_a1"], name="张 伟")
    assert (veteran.name_pinyin, veteran.name_initials) == ("zhangwei", "zw")
    services.veteran_update(actor=users["village_a1"], veteran=veteran, name="李强")
    veteran.refresh_from_db()
    assert (veteran.name_pinyin, veteran.name_initials) == ("liqiang", "lq")


def test_reveal_is_logged_and_needs_the_permission(client, tree, users):
    veteran = make_veteran(tree["village_a1"])
    login(client, users["village_a1"])
    response = client.post(reverse("registry:veteran_reveal", args=[veteran.pk]))
    assert response.status_code == 200 and veteran.id_number in response.content.decode()
    assert AccessLog.objects.filter(action="reveal", object_id=str(veteran.pk), user=users["village_a1"]).count() == 1
    login(client, users["leader"])
    assert client.post(reverse("registry:veteran_reveal", args=[veteran.pk])).status_code == 403
    assert AccessLog.objects.filter(action="reveal").count() == 1


def test_pages_show_the_id_masked_and_log_the_view(client, tree, users):
    veteran = make_veteran(tree["village_a1"])
    login(client, users["village_a1"])
    for url in (reverse("registry:veteran_list"), reverse("registry:veteran_detail", args=[veteran.pk])):
        html = client.get(url).content.decode()
        assert veteran.id_number not in html and veteran.id_number_masked in html
    assert AccessLog.objects.filter(action="view", object_id=str(veteran.pk)).count() == 1


def test_transfer_within_the_district_moves_scope_and_keeps_history(tree, users):
    veteran = make_veteran(tree["village_a1"], actor=users["village_a1"])
    services.veteran_transfer(actor=users["village_a1"], veteran=veteran, to_unit=tree["village_b1"],
                              on=date.today(), reason="户籍迁移")
    veteran.refresh_from_db()
    assert veteran.org_unit == tree["village_b1"]
    assert not Veteran.objects.visible_to(users["village_a1"]).filter(pk=veteran.pk).exists()
    assert Veteran.objects.visible_to(users["village_b1"]).filter(pk=veteran.pk).exists()
    transfer = Transfer.objects.get(veteran=veteran)
    assert (transfer.from_unit, transfer.to_unit, transfer.actor) == (tree["village_a1"], tree["village_b1"], users["village_a1"])
    units = [e.pgh_data["org_unit_id"] for e in Events.objects.tracks(veteran).order_by("pgh_created_at")]
    assert units[0] == tree["village_a1"].pk and units[-1] == tree["village_b1"].pk


def test_transfer_out_of_the_district_closes_the_record(tree, users):
    veteran = make_veteran(tree["village_a1"])
    services.veteran_transfer(actor=users["village_a1"], veteran=veteran, to_unit=None, on=date.today(),
                              destination="南京市鼓楼区")
    veteran.refresh_from_db()
    assert veteran.status == VeteranStatus.MOVED_OUT
    with pytest.raises(ValidationError):
        services.veteran_transfer(actor=users["village_a1"], veteran=veteran, to_unit=tree["village_a2"], on=date.today())


def test_close_and_restore_are_soft(tree, users):
    veteran = make_veteran(tree["village_a1"])
    with pytest.raises(ValidationError):
        services.veteran_close(actor=users["village_a1"], veteran=veteran, status="deceased",
                               on=date.today() + timedelta(days=1))
    services.veteran_close(actor=users["village_a1"], veteran=veteran, status="deceased", on=date.today())
    assert Veteran.objects.get(pk=veteran.pk).status == VeteranStatus.DECEASED
    services.veteran_restore(actor=users["village_a1"], veteran=veteran)
    assert Veteran.objects.get(pk=veteran.pk).status == VeteranStatus.ACTIVE


def test_family_member_id_is_validated_encrypted_and_unique_per_veteran(tree):
    veteran = make_veteran(tree["village_a1"])
    number = id_number("19550303")
    member = services.family_member_save(actor=None, veteran=veteran, name="王秀英", id_number=number)
    assert member.id_number_masked == number[:6] + "********" + number[-4:]
    assert number not in member.id_number_encrypted
    with pytest.raises(ValidationError):
        services.family_member_save(actor=None, veteran=veteran, name="王秀英", id_number=number)
    with pytest.raises(ValidationError) as exc:
        services.family_member_save(actor=None, veteran=veteran, name="某某", id_number="123")
    assert "id_number" in exc.value.message_dict
