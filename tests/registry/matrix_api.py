"""Registry API rows of the permission matrix (session auth; token auth is tested in test_api.py).

The records are the veteran of village A1 and their family member (tests/registry/matrix.py). Outside
A1's area the API answers 404; the permission check comes first, so leadership gets 403 on writes.
A create by a station outside A1 names a unit it may not use: 400 on the ``org_unit`` field.
"""

from __future__ import annotations

from apps.registry.models import Code
from tests.permissions import A1_OUT_OF_SCOPE, A1_SCOPE, DISTRICT, MANAGERS, PRINCIPALS, STATIONS, Route
from tests.registry.factories import id_number

VIEWERS = DISTRICT | STATIONS | MANAGERS  # registry.view_veteran / view_familymember
KEEPERS = VIEWERS - {"leader"}
A1_KEEPERS = A1_SCOPE - {"leader"}
JSON = {"content_type": "application/json"}


def objects(users, tree) -> dict:
    return {"code": Code.objects.get(kind="tag", name="重点关注")}


def veteran_pk(objs):
    return {"pk": objs["veteran"].pk}


def family_pk(objs):
    return {"veteran_pk": objs["veteran"].pk}


def member_pk(objs):
    return {"veteran_pk": objs["veteran"].pk, "pk": objs["family_member"].pk}


def new_person(objs, who: str) -> dict:
    # One distinct person per principal, all registered in village A1.
    return {"name": "矩阵新兵", "id_number": id_number("19750505", sequence=501 + 2 * PRINCIPALS.index(who)),
            "org_unit": objs["unit"].code, "primary_category": "退役士兵"}


ROUTES = [
    Route("veteran-list", ok=VIEWERS, anon=403),
    Route("veteran-list", "post", data=new_person, headers=JSON, ok=A1_KEEPERS, ok_status=201, anon=403,
          override={who: 400 for who in KEEPERS - A1_SCOPE}),
    Route("veteran-detail", kwargs=veteran_pk, ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE, anon=403),
    # The test client sends ``query`` as the body of a PATCH; JSON says how to read it.
    Route("veteran-detail", "patch", kwargs=veteran_pk, query={"phone": "13800000001"}, headers=JSON,
          ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE, anon=403),
    Route("veteran-family-list", kwargs=family_pk, ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE, anon=403),
    Route("veteran-family-list", "post", kwargs=family_pk, data=lambda objs, who: {"name": f"家属{who}"}, headers=JSON,
          ok=A1_KEEPERS, ok_status=201, not_found=A1_OUT_OF_SCOPE, anon=403),
    Route("veteran-family-detail", kwargs=member_pk, ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE, anon=403),
    Route("veteran-family-detail", "patch", kwargs=member_pk, query={"work_unit": "浦口区医院"}, headers=JSON,
          ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE, anon=403),
    Route("code-list", ok=VIEWERS, anon=403),
    Route("code-detail", kwargs=lambda objs: {"pk": objs["code"].pk}, ok=VIEWERS, anon=403),
]
