"""Demo honours data in the demo street (星甸街道): a few plaques hung around 八一 and replaced before 春节,
merit notices delivered with the 人武部, and one notice received two days ago and not yet delivered (so the
station's worklist shows the 送喜报 visit due). Dates are relative to today, like the care demo's; the
signature photos are drawn here (a ruled sheet with scribbled signatures). Running it again adds nothing."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.core.models import OrgUnit, User
from apps.registry.choices import VeteranStatus
from apps.registry.models import Veteran

from . import services
from .choices import MeritAward, PlaqueAction, PlaqueKind
from .models import MeritNotice, PlaqueRecord

DEMO_STREET = "320111008000"  # 星甸街道
STATION_PEOPLE = ["街道服务站 张站长", "社区专干 陈专干", "社区书记 李建国", "村专干 刘专干"]
ARMED_FORCES = ["街道人武部 周部长", "区人武部 孙参谋"]
MEMBERS = ["王浩然", "李子豪", "陈宇航", "赵俊杰", "刘明辉"]


def signature_photo(rng: random.Random, name: str) -> SimpleUploadedFile:
    """A photo-like image of a signed register: ruled lines and a few scribbled signatures."""
    width, height = 640, 420
    image = Image.new("RGB", (width, height), (246, 243, 234))
    draw = ImageDraw.Draw(image)
    for y in range(60, height - 20, 48):
        draw.line([(30, y), (width - 30, y)], fill=(170, 170, 170), width=1)
    draw.line([(200, 40), (200, height - 20)], fill=(170, 170, 170), width=1)
    draw.rectangle([(20, 20), (width - 20, height - 10)], outline=(120, 120, 120), width=2)
    for row in range(1, 4):
        base_y = 60 + row * 48 - 14
        x = 230 + rng.randint(0, 40)
        points = []
        for step in range(40):
            points.append((x + step * rng.uniform(3.5, 5.5),
                           base_y + 10 * math.sin(step / rng.uniform(1.5, 3.0)) + rng.uniform(-3, 3)))
        draw.line(points, fill=(25, 40, 110), width=3, joint="curve")
    draw.ellipse([(width - 170, height - 150), (width - 50, height - 30)], outline=(200, 30, 30), width=5)
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


def last_army_day(today: date) -> date:
    this_year = date(today.year, 8, 1)
    return this_year if this_year <= today else date(today.year - 1, 8, 1)


def seed(*, veterans: int, seed: int = 2026, stdout, **_options) -> int:
    street = OrgUnit.objects.filter(code=DEMO_STREET).first()
    if street is None:
        stdout.write("honors: no demo street, nothing added")
        return 0
    in_street = {"org_unit__path__startswith": street.path}
    if PlaqueRecord.objects.filter(**in_street).exists() or MeritNotice.objects.filter(**in_street).exists():
        stdout.write("honors: demo plaques and notices present, none added")
        return 0
    people = list(Veteran.objects.filter(status=VeteranStatus.ACTIVE, **in_street).order_by("-pk")[:40])
    if len(people) < 8:
        stdout.write("honors: too few people in the demo street, none added")
        return 0
    rng = random.Random(seed)
    rng.shuffle(people)
    today = timezone.localdate()
    actors = {u.username: u for u in User.objects.filter(username__in=["street", "village"])}
    actor = actors.get("street")
    army_day = last_army_day(today)
    plaques = 0
    for number, person in enumerate(people[:5]):
        replace = number >= 3
        day = (today - timedelta(days=rng.randint(20, 60))) if replace else army_day - timedelta(days=rng.randint(0, 6))
        if day < person.birth_date:
            continue
        services.plaque_record(
            actor=actor, veteran=person, action=PlaqueAction.REPLACE if replace else PlaqueAction.HANG,
            kind=rng.choice([PlaqueKind.GLORY_HOME, PlaqueKind.GLORY_HOME, PlaqueKind.MILITARY_FAMILY,
                             PlaqueKind.VETERAN]),
            date=day, people=f"{rng.choice(STATION_PEOPLE)}、户主 {person.name}",
            signature=signature_photo(rng, f"plaque-{number}.jpg"),
            note="旧牌褪色，更换新牌" if replace else "")
        plaques += 1
    notices = 0
    awards = [MeritAward.THIRD_CLASS, MeritAward.SECOND_CLASS, MeritAward.THIRD_CLASS]
    for number, person in enumerate(people[5:8]):
        delivered = number < 2
        received = today - timedelta(days=rng.randint(30, 120) if delivered else 2)
        if received < person.birth_date:
            continue
        notice = services.merit_notice_register(actor=actor, veteran=person, member_name=MEMBERS[number],
                                                award=awards[number], notice_date=received,
                                                note="部队寄来立功喜报")
        if delivered:
            services.merit_notice_deliver(
                actor=actor, notice=notice, delivered_on=received + timedelta(days=rng.randint(1, 6)),
                deliverers=f"{rng.choice(STATION_PEOPLE)}、{rng.choice(ARMED_FORCES)}",
                signature=signature_photo(rng, f"notice-{number}.jpg"))
        notices += 1
    stdout.write(f"honors: {plaques} plaque records and {notices} merit notices in {street.name}")
    return plaques + notices
