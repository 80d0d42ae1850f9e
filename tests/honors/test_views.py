"""Honours pages: recording on a person, delivering, lists with filters, the signature served in scope,
the person tab and the history entries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.care.models import DueVisit
from apps.honors.models import MeritNotice, PlaqueRecord
from tests.conftest import login
from tests.honors.factories import days_ago, deliver, image, make_notice, make_plaque
from tests.registry.factories import make_veteran

pytestmark = pytest.mark.django_db


@pytest.fixture
def veteran(tree):
    return make_veteran(tree["village_a1"], name="李军属")


def test_record_a_plaque_from_the_person_page(client, users, veteran):
    login(client, users["village_a1"])
    tab = client.get(reverse("registry:veteran_detail", args=[veteran.pk]), {"tab": "honors"})
    assert tab.status_code == 200
    create_url = reverse("honors:plaque_create", args=[veteran.pk])
    assert create_url in tab.content.decode()
    response = client.post(create_url, {"action": "hang", "kind": "glory_home", "date": days_ago(1).isoformat(),
                                        "people": "村 陈专干, 户主 李某", "signature": image()})
    record = PlaqueRecord.objects.get(veteran=veteran)
    assert response.status_code == 302 and response["Location"] == record.get_absolute_url()
    page = client.get(record.get_absolute_url()).content.decode()
    assert reverse("honors:plaque_photo", args=[record.pk]) in page
    assert "/media/" not in page and record.signature.name not in page
    photo = client.get(reverse("honors:plaque_photo", args=[record.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")
    assert "no-store" in photo["Cache-Control"]


def test_form_errors_are_shown_on_their_fields(client, users, veteran):
    login(client, users["village_a1"])
    future = days_ago(-3).isoformat()
    response = client.post(reverse("honors:plaque_create", args=[veteran.pk]),
                           {"action": "hang", "kind": "glory_home", "date": future, "people": "某",
                            "signature": image("x.gif")})
    assert response.status_code == 200
    form = response.context["form"]
    assert "date" in form.errors or "signature" in form.errors
    assert not PlaqueRecord.objects.exists()


def test_register_and_deliver_a_notice(client, users, veteran, django_capture_on_commit_callbacks):
    login(client, users["village_a1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("honors:notice_create", args=[veteran.pk]),
                               {"member_name": "李小兵", "award": "first_class",
                                "notice_date": days_ago(1).isoformat()})
    notice = MeritNotice.objects.get(veteran=veteran)
    assert response.status_code == 302 and response["Location"] == notice.get_absolute_url()
    assert DueVisit.objects.open().filter(veteran=veteran, occasion__code="merit_delivery").exists()
    detail = client.get(notice.get_absolute_url()).content.decode()
    deliver_url = reverse("honors:notice_deliver", args=[notice.pk])
    assert deliver_url in detail
    response = client.post(deliver_url, {"delivered_on": days_ago(0).isoformat(), "deliverers": "街道, 人武部",
                                         "signature": image("r.jpg", "JPEG")})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.is_delivered
    assert not DueVisit.objects.open().filter(veteran=veteran, occasion__code="merit_delivery").exists()
    photo = client.get(reverse("honors:notice_photo", args=[notice.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    # Delivering again leads back to the notice.
    again = client.get(deliver_url)
    assert again.status_code == 302 and again["Location"] == notice.get_absolute_url()


def test_leadership_reads_but_does_not_record(client, users, veteran):
    notice = make_notice(veteran)
    login(client, users["leader"])
    assert client.get(notice.get_absolute_url()).status_code == 200
    tab = client.get(reverse("registry:veteran_detail", args=[veteran.pk]), {"tab": "honors"}).content.decode()
    assert reverse("honors:notice_create", args=[veteran.pk]) not in tab
    assert reverse("honors:notice_deliver", args=[notice.pk]) not in tab
    assert client.get(reverse("honors:notice_deliver", args=[notice.pk])).status_code == 403


def test_lists_are_scoped_and_filtered(client, users, tree, veteran):
    other = make_veteran(tree["village_a2"], name="赵军属")
    make_plaque(veteran, action="hang", date=days_ago(2))
    make_plaque(other, action="replace", date=days_ago(2))
    open_notice = make_notice(veteran, member_name="开放喜报", award="third_class")
    deliver(make_notice(veteran, member_name="已送喜报", award="second_class"))
    make_notice(other, member_name="邻村喜报")

    login(client, users["village_a1"])
    page = client.get(reverse("honors:plaque_list")).content.decode()
    assert "李军属" in page and "赵军属" not in page
    assert '<select class="form-select form-select-sm" name="year" id="id_year">\n        <option value="">' in page
    page = client.get(reverse("honors:notice_list")).content.decode()
    assert "开放喜报" in page and "已送喜报" in page and "邻村喜报" not in page
    page = client.get(reverse("honors:notice_list"), {"status": "open"}).content.decode()
    assert "开放喜报" in page and "已送喜报" not in page
    page = client.get(reverse("honors:notice_list"), {"award": "second_class"}).content.decode()
    assert "已送喜报" in page and "开放喜报" not in page
    page = client.get(reverse("honors:notice_list"), {"year": open_notice.notice_date.year - 1}).content.decode()
    assert "开放喜报" not in page

    login(client, users["street_a"])
    page = client.get(reverse("honors:plaque_list"), {"unit": tree["village_a2"].pk}).content.decode()
    assert "赵军属" in page and "李军属" not in page
    page = client.get(reverse("honors:plaque_list"), {"action": "hang"}).content.decode()
    assert "李军属" in page and "赵军属" not in page
    # A unit outside one's area is not a choice: the filter is ignored as invalid, the scope still holds.
    login(client, users["village_a2"])
    page = client.get(reverse("honors:plaque_list"), {"unit": tree["village_a1"].pk}).content.decode()
    assert "李军属" not in page


def test_htmx_list_renders_the_table_only(client, users, veteran):
    make_plaque(veteran)
    login(client, users["village_a1"])
    response = client.get(reverse("honors:plaque_list"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="plaque-results"' in body and "<html" not in body


def test_out_of_scope_records_answer_404(client, users, veteran):
    plaque = make_plaque(veteran)
    notice = make_notice(veteran)
    login(client, users["village_a2"])
    for url in (plaque.get_absolute_url(), reverse("honors:plaque_photo", args=[plaque.pk]),
                notice.get_absolute_url(), reverse("honors:notice_deliver", args=[notice.pk]),
                reverse("honors:plaque_create", args=[veteran.pk]),
                reverse("honors:notice_create", args=[veteran.pk])):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("honors:notice_deliver", args=[notice.pk]),
                           {"delivered_on": days_ago(0).isoformat(), "deliverers": "x", "signature": image()})
    assert response.status_code == 404
    notice.refresh_from_db()
    assert not notice.is_delivered


def test_history_tab_lists_plaques_and_deliveries(client, users, veteran):
    make_plaque(veteran, action="replace", people="街道 王某")
    deliver(make_notice(veteran, member_name="李小兵", award="first_class"), deliverers="人武部 周某")
    make_notice(veteran, member_name="李二兵")
    login(client, users["street_a"])
    page = client.get(reverse("registry:veteran_detail", args=[veteran.pk]), {"tab": "history"}).content.decode()
    assert "街道 王某" in page  # the plaque entry (people present)
    assert "人武部 周某" in page  # the delivery entry
    assert "李二兵" in page  # the registration of the notice still open


def test_honours_tab_lists_the_registers(client, users, veteran):
    plaque = make_plaque(veteran)
    notice = make_notice(veteran, member_name="李小兵")
    login(client, users["village_a1"])
    page = client.get(reverse("registry:veteran_detail", args=[veteran.pk]), {"tab": "honors"},
                      headers={"HX-Request": "true"}).content.decode()
    assert plaque.get_absolute_url() in page and "李小兵" in page
    assert reverse("honors:notice_deliver", args=[notice.pk]) in page


def test_navigation_entry(client, users):
    login(client, users["village_a1"])
    page = client.get(reverse("core:home")).content.decode()
    assert reverse("honors:plaque_list") in page
    login(client, users["enterprise"])
    assert reverse("honors:plaque_list") not in client.get(reverse("core:home")).content.decode()


def test_list_query_count_is_flat(client, users, tree, django_assert_max_num_queries):
    login(client, users["bureau"])
    people = [make_veteran(tree["village_a1"], name=f"军属{i}") for i in range(6)]
    for person in people[:2]:
        make_notice(person)
        make_plaque(person)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = (count(reverse("honors:plaque_list")), count(reverse("honors:notice_list")))
    for person in people[2:]:
        make_notice(person)
        make_plaque(person)
    many = (count(reverse("honors:plaque_list")), count(reverse("honors:notice_list")))
    assert few == many


def test_plaque_and_notice_records_and_their_photos_are_logged(client, users, veteran):
    """Issue 10, finding 9: each read of a plaque or notice record or of its signed photo is in the access log,
    on the person."""
    from django.contrib.contenttypes.models import ContentType

    from apps.core.models import AccessLog
    from apps.registry.models import Veteran

    plaque = make_plaque(veteran)
    notice = deliver(make_notice(veteran))
    login(client, users["street_a"])
    for url in (plaque.get_absolute_url(), reverse("honors:plaque_photo", args=[plaque.pk]),
                notice.get_absolute_url(), reverse("honors:notice_photo", args=[notice.pk])):
        assert client.get(url).status_code == 200, url
    logged = AccessLog.objects.filter(content_type=ContentType.objects.get_for_model(Veteran),
                                      object_id=str(veteran.pk), user=users["street_a"]).order_by("id")
    assert [(e.action, e.detail) for e in logged] == [
        ("view", {"plaque": plaque.pk}), ("download", {"plaque": plaque.pk, "plaque_photo": True}),
        ("view", {"notice": notice.pk}), ("download", {"notice": notice.pk, "notice_photo": True})]
    login(client, users["village_b1"])
    assert client.get(reverse("honors:plaque_photo", args=[plaque.pk])).status_code == 404
    assert not AccessLog.objects.filter(user=users["village_b1"]).exists()
