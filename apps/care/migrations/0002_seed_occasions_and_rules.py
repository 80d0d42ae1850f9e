"""Seed the visit occasions and the default visit rules from the domain reference, docs/domain.md (unverified defaults:
administrators edit them per district)."""

from django.db import migrations

# code, name, group, is a life event
OCCASIONS = [
    ("enlist", "新兵入伍慰问", "enlistment", False),
    ("homecoming", "退役返乡走访", "homecoming", False),
    ("must_visit", "六必访走访", "must_visit", False),
    ("hospitalised", "生病住院", "must_visit", True),
    ("family_change", "家庭遭遇重大变故", "must_visit", True),
    ("hardship", "生活困难", "must_visit", True),
    ("dispute", "矛盾纠纷", "must_visit", True),
    ("disaster", "遭受自然灾害", "must_visit", True),
    ("contact", "常态化联系", "routine", False),
    ("spring_festival", "春节走访", "festival", False),
    ("army_day", "八一走访", "festival", False),
    ("mid_autumn", "中秋走访", "festival", False),
    ("merit_notice", "立功受奖喜报", "merit", True),
    ("merit_delivery", "送喜报", "merit", False),
    ("plaque", "悬挂光荣牌", "plaque", False),
    ("birthday", "高龄生日走访", "other", False),
    ("other", "其他走访", "other", False),
]

MUST_VISIT_EVENTS = ["hospitalised", "family_change", "hardship", "dispute", "disaster"]
ARMY_DAY_CATEGORIES = ["军队离休退休干部和退休士官", "退伍红军老战士", "残疾军人", "烈士遗属"]


def forwards(apps, schema_editor):
    Occasion = apps.get_model("care", "Occasion")
    VisitRule = apps.get_model("care", "VisitRule")
    Code = apps.get_model("registry", "Code")
    occasions = {}
    for order, (code, name, group, event) in enumerate(OCCASIONS, 1):
        occasions[code], _ = Occasion.objects.get_or_create(
            code=code, defaults={"name": name, "group": group, "is_life_event": event, "sort_order": order * 10})

    def rule(name, kind, occasion, m2m=None, **fields):
        obj, created = VisitRule.objects.get_or_create(name=name, defaults={
            "kind": kind, "occasion": occasions[occasion], **fields})
        if created:
            for field, values in (m2m or {}).items():
                getattr(obj, field).set(values)

    rule("重点优抚对象每季度联系", "interval", "contact", interval_months=3, key_recipients_only=True)
    rule("重点优抚对象每年上门走访", "interval", "contact", interval_months=12, key_recipients_only=True,
         home_visit_required=True)
    rule("全体人员每年至少联系一次", "interval", "contact", interval_months=12, everyone=True,
         escalate_street_days=30, escalate_bureau_days=60)
    rule("退役返乡30日内欢迎走访", "after_report", "homecoming", due_within_days=30, everyone=True,
         home_visit_required=True)
    rule("六必访：事件发生3日内走访", "after_event", "must_visit", due_within_days=3, everyone=True,
         escalate_street_days=2, escalate_bureau_days=7,
         m2m={"event_occasions": [occasions[c] for c in MUST_VISIT_EVENTS]})
    rule("立功喜报7日内送达", "after_event", "merit_delivery", due_within_days=7, everyone=True,
         home_visit_required=True, m2m={"event_occasions": [occasions["merit_notice"]]})
    rule("春节走访重点优抚对象", "festival", "spring_festival", calendar="lunar", month=1, day=1, lead_days=20,
         key_recipients_only=True, home_visit_required=True, escalate_street_days=3, escalate_bureau_days=10)
    rule("八一走访", "festival", "army_day", calendar="solar", month=8, day=1, lead_days=10,
         home_visit_required=True, escalate_street_days=3, escalate_bureau_days=10,
         m2m={"categories": list(Code.objects.filter(kind="category", name__in=ARMY_DAY_CATEGORIES))})
    rule("中秋走访重点优抚对象", "festival", "mid_autumn", calendar="lunar", month=8, day=15, lead_days=10,
         key_recipients_only=True, escalate_street_days=3, escalate_bureau_days=10)
    rule("80岁以上老人生日走访", "birthday", "birthday", min_age=80, lead_days=7, home_visit_required=True)


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial"), ("registry", "0002_seed_code_tables")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
