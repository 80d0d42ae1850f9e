"""Demo data for core: the demo district tree and one account per role (for demos only)."""

from __future__ import annotations

from django.conf import settings

from .choices import Role
from .models import OrgUnit, User
from .services import orgunit_tree_load_csv, user_create, user_set_password

DEMO_TREE = settings.BASE_DIR / "fixtures" / "orgunits_demo_district.csv"
DEMO_PASSWORD = "Veteran#2026"

# username, real name, role, unit code (None = district)
DEMO_ACCOUNTS = [
    ("admin", "系统管理员", Role.ADMIN, None),
    ("leader", "王局长", Role.LEADER, None),
    ("bureau", "李科员", Role.BUREAU_STAFF, None),
    ("street", "张站长", Role.STREET_STATION, "320111008000"),
    ("village", "陈专干", Role.VILLAGE_STATION, "320111008002"),
    ("village2", "刘专干", Role.VILLAGE_STATION, "320111008003"),
    ("enterprise", "赵经理", Role.ENTERPRISE, None),
]


def seed(*, password: str | None, stdout, **_options) -> None:
    created, updated = orgunit_tree_load_csv(DEMO_TREE)
    stdout.write(f"core: org units created={created} updated={updated}")
    district = OrgUnit.objects.get(code="320111000000")
    for username, real_name, role, code in DEMO_ACCOUNTS:
        unit = OrgUnit.objects.get(code=code) if code else district
        user = User.objects.filter(username=username).first()
        if user is None:
            user_create(actor=None, username=username, password=password or DEMO_PASSWORD, real_name=real_name,
                        org_unit=unit, roles=[role])
            stdout.write(f"core: user {username} ({role.label}) created")
        elif password:
            user_set_password(actor=None, user=user, password=password)
