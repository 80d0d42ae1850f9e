"""Care page rows of the permission matrix: worklist, visits, life events, calendar, campaigns, rules, occasions.
Records belong to village A1 (see tests/permissions.py)."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.care import services
from apps.care.models import Campaign, DueVisit, Occasion, VisitRule
from tests.care.helpers_pages import ensure_care_seed, png_bytes
from tests.permissions import A1_OUT_OF_SCOPE, A1_SCOPE, DISTRICT, MANAGERS, REDIRECT, STATIONS, Route
from tests.registry.factories import make_veteran
from tests.versions import any_version

CARE_VIEWERS = DISTRICT | STATIONS | MANAGERS  # view visits, tasks, campaigns, rules
A1_WORKERS = A1_SCOPE - {"leader"}  # log visits, record events, cancel tasks (leadership only reads)
ADMINS = frozenset({"admin"})  # rules and occasions


def objects(users, tree) -> dict:
    ensure_care_seed()
    today = timezone.localdate()
    person = make_veteran(tree["village_a1"], name="甲一走访对象")
    contact = Occasion.objects.get(code="contact")
    visit = services.visit_log(actor=None, veteran=person, occasion=contact, date=today, visitors="甲一专干",
                               photos=[SimpleUploadedFile("visit.png", png_bytes(), "image/png")])
    rule = VisitRule.objects.create(name="矩阵测试规则", kind="interval", occasion=contact, interval_months=6,
                                    everyone=True)
    campaign = Campaign.objects.create(name="2027 春节走访（矩阵）", rule=rule, period_key="matrix",
                                       starts_on=today, ends_on=today + timedelta(days=20))
    # Made after the visit, which would otherwise close it.
    task = DueVisit.objects.create(rule=rule, veteran=person, org_unit=tree["village_a1"], occasion=contact,
                                   campaign=campaign, period_key="matrix", opens_on=today - timedelta(days=3),
                                   due_date=today + timedelta(days=3))
    return {"care_person": person, "care_visit": visit, "care_photo": visit.photos.get(), "care_rule": rule,
            "care_campaign": campaign, "care_task": task, "care_occasion": contact}


def _pk(key):
    return lambda objs: {"pk": objs[key].pk}


def visit_data(objs, who) -> dict:
    return {"occasion": objs["care_occasion"].pk, "date": timezone.localdate().isoformat(), "mode": "home",
            "visitors": f"{who} 专干", "content": "了解近况"}


def rule_data(objs, who) -> dict:
    return {"name": "矩阵测试规则", "kind": "interval", "occasion": objs["care_occasion"].pk, "interval_months": 3,
            "everyone": "on", "lead_days": 0, "escalate_street_days": 7, "escalate_bureau_days": 30,
            "is_active": "on", "version": any_version(objs["care_rule"])}


ROUTES = [
    Route("care:worklist", ok=CARE_VIEWERS, query={"view": "overdue"}),
    Route("care:worklist", ok=CARE_VIEWERS, query={"view": "done"}),
    Route("care:worklist", ok=CARE_VIEWERS, query={"view": "open", "due": "2027-01-25"}),
    Route("care:visit_create_for_task", kwargs=lambda objs: {"task_pk": objs["care_task"].pk}, ok=A1_WORKERS,
          not_found=A1_OUT_OF_SCOPE),
    # The first worker's visit closes the task; the others are sent back to the worklist ("no longer open").
    Route("care:visit_create_for_task", "post", kwargs=lambda objs: {"task_pk": objs["care_task"].pk},
          data=visit_data, ok=A1_WORKERS, ok_status=REDIRECT, not_found=A1_OUT_OF_SCOPE),
    Route("care:task_cancel", "post", kwargs=_pk("care_task"), data=lambda objs, who: {"reason": "已迁出"},
          ok=A1_WORKERS, ok_status=REDIRECT, not_found=A1_OUT_OF_SCOPE),
    Route("care:visit_create", kwargs=_pk("care_person"), ok=A1_WORKERS, not_found=A1_OUT_OF_SCOPE),
    Route("care:visit_create", "post", kwargs=_pk("care_person"), data=visit_data, ok=A1_WORKERS,
          ok_status=REDIRECT, not_found=A1_OUT_OF_SCOPE),
    Route("care:event_create", kwargs=_pk("care_person"), ok=A1_WORKERS, not_found=A1_OUT_OF_SCOPE),
    Route("care:event_create", "post", kwargs=_pk("care_person"),
          data=lambda objs, who: {"occasion": Occasion.objects.get(code="hospitalised").pk,
                                  "date": timezone.localdate().isoformat(), "description": "住院"},
          ok=A1_WORKERS, ok_status=REDIRECT, not_found=A1_OUT_OF_SCOPE),
    Route("care:visit_detail", kwargs=_pk("care_visit"), ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    Route("care:visit_photo", kwargs=lambda objs: {"pk": objs["care_visit"].pk, "photo_pk": objs["care_photo"].pk},
          ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    Route("care:calendar", ok=CARE_VIEWERS),
    Route("care:calendar", ok=CARE_VIEWERS, query={"month": "2027-01"}),
    Route("care:campaign_list", ok=CARE_VIEWERS),
    Route("care:campaign_detail", kwargs=_pk("care_campaign"), ok=CARE_VIEWERS),
    Route("care:campaign_export", kwargs=_pk("care_campaign"), ok=CARE_VIEWERS),
    Route("care:rule_list", ok=CARE_VIEWERS),
    Route("care:rule_create", ok=ADMINS),
    Route("care:rule_edit", kwargs=_pk("care_rule"), ok=ADMINS),
    Route("care:rule_edit", "post", kwargs=_pk("care_rule"), data=rule_data, ok=ADMINS, ok_status=REDIRECT),
    Route("care:rule_toggle", "post", kwargs=_pk("care_rule"), ok=ADMINS, ok_status=REDIRECT),
    Route("care:occasion_list", ok=ADMINS),
    Route("care:occasion_create", ok=ADMINS),
    Route("care:occasion_edit", kwargs=_pk("care_occasion"), ok=ADMINS),
]
