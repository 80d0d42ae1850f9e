"""Honours rows of the permission matrix (see tests/permissions.py). Records belong to village A1."""

from __future__ import annotations

from tests.honors.factories import deliver, image, make_notice, make_plaque
from tests.permissions import A1_OUT_OF_SCOPE, A1_SCOPE, DISTRICT, MANAGERS, REDIRECT, STATIONS, Route
from tests.registry.factories import make_veteran

VIEWERS = DISTRICT | STATIONS | MANAGERS  # honors.view_*: leadership reads
A1_KEEPERS = A1_SCOPE - {"leader"}  # add/change (deliver): stations, bureau staff, administrators


def objects(users, tree) -> dict:
    veteran = make_veteran(tree["village_a1"], name="甲一军属")
    plaque = make_plaque(veteran)
    open_notice = make_notice(veteran, member_name="甲一现役")
    delivered = deliver(make_notice(veteran, member_name="甲一立功"))
    return {"honors_veteran": veteran, "honors_plaque": plaque, "honors_open_notice": open_notice,
            "honors_delivered_notice": delivered}


def pk_of(key):
    return lambda objs: {"pk": objs[key].pk}


ROUTES = [
    Route("honors:plaque_list", ok=VIEWERS),
    Route("honors:notice_list", ok=VIEWERS),
    Route("honors:notice_list", ok=VIEWERS, query={"status": "open", "award": "third_class"}),
    Route("honors:plaque_detail", kwargs=pk_of("honors_plaque"), ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    Route("honors:plaque_photo", kwargs=pk_of("honors_plaque"), ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    Route("honors:notice_detail", kwargs=pk_of("honors_open_notice"), ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    Route("honors:notice_photo", kwargs=pk_of("honors_delivered_notice"), ok=A1_SCOPE, not_found=A1_OUT_OF_SCOPE),
    # An undelivered notice has no signature yet: nothing to serve.
    Route("honors:notice_photo", kwargs=pk_of("honors_open_notice"), ok=A1_SCOPE, ok_status=404,
          not_found=A1_OUT_OF_SCOPE),
    Route("honors:notice_deliver", kwargs=pk_of("honors_open_notice"), ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    # A delivered notice cannot be delivered again: its page follows.
    Route("honors:notice_deliver", kwargs=pk_of("honors_delivered_notice"), ok=A1_KEEPERS, ok_status=REDIRECT,
          not_found=A1_OUT_OF_SCOPE),
    Route("honors:plaque_create", kwargs=pk_of("honors_veteran"), ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("honors:plaque_create", "post", kwargs=pk_of("honors_veteran"),
          data=lambda objs, who: {"action": "replace", "kind": "glory_home", "date": "2024-08-01",
                                  "people": f"{who} 与户主", "signature": image()},
          ok=A1_KEEPERS, ok_status=REDIRECT, not_found=A1_OUT_OF_SCOPE),
    Route("honors:notice_create", kwargs=pk_of("honors_veteran"), ok=A1_KEEPERS, not_found=A1_OUT_OF_SCOPE),
    Route("honors:notice_create", "post", kwargs=pk_of("honors_veteran"),
          data=lambda objs, who: {"member_name": f"{who}现役", "award": "second_class", "notice_date": "2024-07-01"},
          ok=A1_KEEPERS, ok_status=REDIRECT, not_found=A1_OUT_OF_SCOPE),
]
