"""Demo data: deterministic, idempotent, valid and consistent people, written with their history."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.registry import crypto, demo, idnumber
from apps.registry.models import CareEntitlement, FamilyMember, PreferentialCard, Veteran

pytestmark = pytest.mark.django_db


def seed(n: int, seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", veterans=n, seed=seed, stdout=out)
    return out.getvalue()


def people(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """What the generator makes for this seed, without writing anything."""
    generator = demo.Generator(seed, demo.demo_units(), demo.code_tables())
    return [(p.fields[4], p.digest) for p in (generator.person() for _ in range(n))]


def test_seed_twice_creates_nothing_new():
    seed(300)
    hashes = set(Veteran.objects.values_list("id_number_hash", flat=True))
    family, cards = FamilyMember.objects.count(), PreferentialCard.objects.count()
    output = seed(300)
    assert "300 veterans present, none added" in output
    assert Veteran.objects.count() == 300
    assert set(Veteran.objects.values_list("id_number_hash", flat=True)) == hashes
    assert (FamilyMember.objects.count(), PreferentialCard.objects.count()) == (family, cards)


def test_same_seed_same_people_and_growing_keeps_the_first_ones():
    seed(120)
    first = list(Veteran.objects.order_by("id").values_list("name", "id_number_hash"))
    assert first == people(120)
    seed(300)
    assert list(Veteran.objects.order_by("id").values_list("name", "id_number_hash")) == people(300)
    assert people(50, seed=8) != people(50)


def test_ids_are_valid_and_agree_with_the_record():
    seed(300)
    areas = set()
    for veteran in Veteran.objects.all():
        parsed = idnumber.parse(veteran.id_number)
        assert parsed.number == veteran.id_number
        assert (parsed.birth_date, parsed.sex) == (veteran.birth_date, veteran.sex)
        assert veteran.id_number_masked == parsed.masked
        assert 1930 <= veteran.birth_date.year <= 2004
        areas.add(parsed.area_code)
    assert "320111" in areas and len(areas) > 3
    members = FamilyMember.objects.exclude(id_number_hash="")
    assert members.exists()
    for member in members:
        number = crypto.decrypt(member.id_number_encrypted)
        assert idnumber.parse(number).masked == member.id_number_masked
        assert crypto.blind_index(number) == member.id_number_hash


def test_records_are_consistent():
    seed(300)
    served = Veteran.objects.exclude(enlist_date=None).select_related("rank", "military_category", "org_unit")
    assert served.count() > 250
    for veteran in served:
        assert veteran.enlist_date.year - veteran.birth_date.year >= 17
        assert veteran.enlist_date < veteran.discharge_date <= demo.DEMO_TODAY
        assert veteran.rank.parent_id == veteran.military_category_id
        assert veteran.discharge_mode_id and veteran.branch_id and veteran.primary_category_id
        assert veteran.org_unit.depth == 3
        assert veteran.name_pinyin and veteran.name_initials
    grades = list(CareEntitlement.objects.exclude(disability_grade=None).values_list("disability_grade", flat=True))
    assert all(1 <= g <= 10 for g in grades)
    assert Veteran.objects.filter(categories__isnull=False).distinct().count() == 300
    assert PreferentialCard.objects.filter(status="issued").exclude(number="").exists()
    assert len(set(Veteran.objects.values_list("org_unit", flat=True))) > 20


def test_history_is_kept_with_the_command_context():
    seed(50)
    events = Veteran.pgh_event_model.objects.filter(pgh_label="insert")
    assert events.count() == 50
    assert all(e.pgh_context and e.pgh_context.metadata.get("command") == "seed_demo"
               for e in events.select_related("pgh_context"))
