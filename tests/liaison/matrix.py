"""Permission-matrix rows of the bureau-to-street liaison (机关驻街, apps/liaison). The pairing belongs to street A.

Village stations do not read liaison work (a street's pairing lies outside a village's area): 403 for them."""

from __future__ import annotations

from django.utils import timezone

from apps.liaison import services
from tests.permissions import DISTRICT, MANAGERS, REDIRECT, Route
from tests.versions import any_version

VIEWERS = DISTRICT | frozenset({"street_a", "street_b"}) | MANAGERS  # liaison.view_liaisontask
PLANNERS = frozenset({"bureau"})  # liaison.add_liaisonpairing, change_liaisonpairing, add_liaisontask
STREET_A = DISTRICT | {"street_a", "manager_a"}  # who sees street A's pairing
REPORTERS_A = PLANNERS | {"street_a", "manager_a"}  # liaison.change_liaisontask, in scope
REPORTERS_OUT = frozenset({"street_b", "manager_b"})  # liaison.change_liaisontask, out of scope


def objects(users, tree) -> dict:
    month = services.month_start(timezone.localdate())
    pairing = services.pairing_save(actor=None, department="优抚科", street=tree["street_a"], members=[users["bureau"]])
    task = services.liaison_task_save(actor=None, pairing=pairing, month=month, item="走访重点优抚对象",
                                      owner=users["street_a"], due_date=month.replace(day=20))
    return {"liaison_pairing": pairing, "liaison_task": task}


def pairing_pk(objs):
    return {"pk": objs["liaison_pairing"].pk}


def pairing_tasks(objs):
    return {"pairing_pk": objs["liaison_pairing"].pk}


def task_pk(objs):
    return {"pk": objs["liaison_task"].pk}


def task_data(objs, who):
    task = objs["liaison_task"]
    # A planner posts the whole item; a street station's form has only status and feedback (the rest is ignored).
    return {"month": f"{task.month:%Y-%m}", "item": task.item, "owner": task.owner_id or "",
            "due_date": task.due_date.isoformat(), "status": "in_progress", "feedback": f"{who}: 进行中",
            "version": any_version(task)}


ROUTES = [
    Route("liaison:pairing_list", ok=VIEWERS),
    Route("liaison:pairing_create", ok=PLANNERS),
    Route("liaison:pairing_create", "post",
          data=lambda objs, who: {"department": "安置科", "street": objs["street"].pk, "is_active": "on"},
          ok=PLANNERS, ok_status=REDIRECT),
    Route("liaison:pairing_detail", kwargs=pairing_pk, ok=STREET_A, not_found=VIEWERS - STREET_A),
    Route("liaison:pairing_detail", kwargs=pairing_pk, query={"month": "2026-01"}, ok=STREET_A,
          not_found=VIEWERS - STREET_A),
    Route("liaison:pairing_edit", kwargs=pairing_pk, ok=PLANNERS),
    Route("liaison:pairing_edit", "post", kwargs=pairing_pk,
          data=lambda objs, who: {"department": "优抚科", "street": objs["street"].pk, "is_active": "on",
                                  "version": any_version(objs["liaison_pairing"])},
          ok=PLANNERS, ok_status=REDIRECT),
    Route("liaison:pairing_copy", "post", kwargs=pairing_pk, ok=PLANNERS, ok_status=REDIRECT),
    Route("liaison:pairing_copy", kwargs=pairing_pk, ok=PLANNERS, ok_status=405),  # POST only
    Route("liaison:task_create", kwargs=pairing_tasks, ok=PLANNERS),
    Route("liaison:task_create", "post", kwargs=pairing_tasks,
          data=lambda objs, who: {"month": f"{objs['liaison_task'].month:%Y-%m}", "item": "新增事项",
                                  "due_date": objs["liaison_task"].due_date.isoformat(), "status": "planned"},
          ok=PLANNERS, ok_status=REDIRECT),
    Route("liaison:task_edit", kwargs=task_pk, ok=REPORTERS_A, not_found=REPORTERS_OUT),
    Route("liaison:task_edit", "post", kwargs=task_pk, data=task_data, ok=REPORTERS_A, ok_status=REDIRECT,
          not_found=REPORTERS_OUT),
    Route("liaison:summary", ok=VIEWERS),
    Route("liaison:summary_export", ok=VIEWERS),
]
