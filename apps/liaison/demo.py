"""Demo data of the bureau-to-street liaison (机关驻街): four bureau departments paired with the demo streets and
two months (last month and this one) of task items in every state. Idempotent: a pairing that exists is left
as it is, and an item already on a pairing's month (same text) is not added again."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from apps.core.choices import OrgLevel
from apps.core.models import OrgUnit, User

from .choices import LiaisonStatus
from .models import LiaisonPairing, LiaisonTask
from .services import liaison_task_save, month_shift, month_start, pairing_save

DEPARTMENTS = ["优抚科", "安置科", "就业创业科", "办公室"]
# (item, day of the month it is due)
ITEMS = {
    "优抚科": [("走访慰问辖区重点优抚对象", 15), ("核对优抚对象抚恤金发放名册", 20), ("检查光荣牌悬挂与更换情况", 25)],
    "安置科": [("跟踪当年退役士兵报到与安置进度", 10), ("督导服务站“一件事”办理台账", 20), ("排查安置对象思想动态", 28)],
    "就业创业科": [("收集辖区企业拥军岗位信息", 12), ("组织退役军人参加专场招聘会", 22), ("回访创业扶持对象经营情况", 27)],
    "办公室": [("督导服务站规范化建设台账", 18), ("开展退役军人政策宣讲进社区", 24)],
}
# Status of item i in last month and this month, with feedback and inspection notes where it has them.
LAST = [(LiaisonStatus.DONE, "已完成，台账已上传。", "资料齐全，符合要求。"),
        (LiaisonStatus.IN_PROGRESS, "已完成大部分，剩余两户本周内走访。", ""),
        (LiaisonStatus.DONE, "已按要求完成。", "")]
THIS = [(LiaisonStatus.IN_PROGRESS, "正在推进，已完成约一半。", ""),
        (LiaisonStatus.PLANNED, "", ""),
        (LiaisonStatus.DONE, "已完成。", "抽查三户，情况属实。")]


def _pairings(streets: list[OrgUnit], officers: list[User]) -> list[LiaisonPairing]:
    """Department i is paired with streets i, i+4, i+8… so every street has one department."""
    pairings = []
    for index, street in enumerate(streets):
        department = DEPARTMENTS[index % len(DEPARTMENTS)]
        pairing = LiaisonPairing.objects.filter(department=department, street=street).first()
        if pairing is None:
            pairing = pairing_save(actor=None, department=department, street=street, members=officers)
        pairings.append(pairing)
    return pairings


def _owner(pairing: LiaisonPairing, officers: list[User], index: int) -> User | None:
    street_staff = list(User.objects.filter(org_unit=pairing.street, is_active=True).order_by("pk")[:1])
    pool = street_staff + officers
    return pool[index % len(pool)] if pool else None


def seed(stdout=None, *, today: date | None = None, **_options) -> int:
    today = today or timezone.localdate()
    this_month = month_start(today)
    last_month = month_shift(this_month, -1)
    streets = list(OrgUnit.objects.filter(level=OrgLevel.STREET, is_active=True).order_by("code"))
    officers = list(User.objects.filter(username="bureau", is_active=True))
    created = 0
    for pairing in _pairings(streets, officers):
        for month, states in ((last_month, LAST), (this_month, THIS)):
            present = set(LiaisonTask.objects.filter(pairing=pairing, month=month).values_list("item", flat=True))
            for index, (item, day) in enumerate(ITEMS[pairing.department]):
                if item in present:
                    continue
                status, feedback, notes = states[(index + pairing.street_id) % len(states)]
                due = month.replace(day=day)
                # Done items of the demo were finished around their due date: most on time, some late.
                completed = due + timedelta(days=(index % 3) - 1) if status == LiaisonStatus.DONE else None
                liaison_task_save(actor=None, pairing=pairing, month=month, item=item,
                                  owner=_owner(pairing, officers, index), due_date=due, status=status,
                                  completed_on=min(completed, today) if completed else None, feedback=feedback,
                                  inspection_notes=notes)
                created += 1
    if stdout is not None:
        stdout.write(f"liaison: pairings={len(streets)} tasks created={created}")
    return created
